import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { MONITORING_DIR } from '@sre/observe/config';
import { BoundDeriver, routeFor } from '../src/bounds/derive.js';
import { expressionWindows, rangeSelectorsMs, splitSetOperators } from '../src/bounds/promql-windows.js';

/**
 * Bounds derived from the rules and routes (issue 12), against the real files of monitoring/: the
 * numbers below are read from monitoring/rules and monitoring/alertmanager, so a change there that
 * the derivation does not follow fails here.
 */

const realTime = { timeScale: 1, scrapeIntervalMs: 5000, evaluationIntervalMs: 5000, slackMs: 30_000 };
const scaled = { timeScale: 10, scrapeIntervalMs: 1000, evaluationIntervalMs: 1000, slackMs: 15_000 };
const scratch = mkdtempSync(join(tmpdir(), 'drill-bounds-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('PromQL windows', () => {
  it('reads range selectors and subquery ranges, not label values that look like durations', () => {
    assert.deepEqual(rangeSelectorsMs('rate(x{le="[5m]"}[2m]) + max_over_time(y[30m:1m])'), [120_000, 1_800_000]);
    assert.deepEqual(rangeSelectorsMs('up == 0'), []);
  });

  it('splits at top-level set operators only, with their matching modifiers', () => {
    const s = splitSetOperators('(a[5m] > 1 and on (namespace, service) group_left b) or sum(c and d)');
    assert.deepEqual(s.operators, ['or']);
    assert.equal(s.operands[1], 'sum(c and d)');
    const inner = splitSetOperators(s.operands[0] as string);
    assert.deepEqual(inner.operators, ['and']);
    assert.equal(inner.operands[1], 'b');
  });

  it('and: fires when both windows have filled, resolves when the shorter one empties; or: the fastest branch fires, both must resolve', () => {
    const records = new Map<string, string>();
    const page = '(e[1h] > 0.0144 and e[5m] > 0.0144) or (e[6h] > 0.006 and e[30m] > 0.006)';
    const w = expressionWindows(page, records);
    assert.equal(w.fireMs, 3_600_000);
    assert.equal(w.resolveMs, 1_800_000);
    assert.equal(w.depth, 0);
  });

  it('follows recording rules, counting one evaluation per level', () => {
    const records = new Map([
      ['r:rate2m', 'sum(rate(x[2m]))'],
      ['r:ratio', 'r:rate2m / r:total'],
      ['r:total', 'sum(rate(y[3m]))'],
    ]);
    assert.deepEqual(expressionWindows('r:ratio > 0.05', records), { fireMs: 180_000, resolveMs: 180_000, depth: 2 });
    // A name that only starts like a record is another series.
    assert.deepEqual(expressionWindows('r:rate2m_other > 1', records), { fireMs: 0, resolveMs: 0, depth: 0 });
  });
});

describe('bounds from monitoring/rules and monitoring/alertmanager', () => {
  it('AuthLoginFailureSpike at real time: its 2m rate window, for 2m, the warning route', () => {
    const b = new BoundDeriver(realTime).alert('AuthLoginFailureSpike', { service: 'auth' });
    assert.equal(b.route.receiver, 'slack-warning');
    assert.equal(
      b.fire.derivation,
      '2m window + 2m for + 5s eval + 5s scrape + 2m group_interval (severity="warning" route; group_wait 30s if the group is new) + 30s slack = 6m40s',
    );
    assert.equal(b.resolve.derivation, '2m window + 5s eval + 5s scrape + 2m group_interval (severity="warning" route) + 30s slack = 4m40s');
    assert.equal(b.resolve.ms, 280_000);
  });

  it('the same derivation at time scale 10: windows and for: divided as tools/observe divides them, 1 s scrapes, timers scaled', () => {
    const b = new BoundDeriver(scaled).alert('AuthLoginFailureSpike', { service: 'auth' });
    assert.equal(
      b.fire.derivation,
      '12s window + 12s for + 1s eval + 1s scrape + 12s group_interval (severity="warning" route; group_wait 3s if the group is new) + 15s slack = 53s',
    );
    assert.equal(b.resolve.derivation, '12s window + 1s eval + 1s scrape + 12s group_interval (severity="warning" route) + 15s slack = 41s');
  });

  it('a query on recording rules carries their windows and one evaluation per level (recording.rules.yml)', () => {
    const b = new BoundDeriver(realTime).query('namespace_service:http_requests_5xx:ratio_rate2m{service="images"} > 0.05');
    assert.equal(b.derivation, '2m window + 10s eval (2 rule levels × 5s) + 5s scrape + 30s slack = 2m45s');
  });

  it('an alert without a range (ServiceDown) is bounded by its for:, the evaluation, a scrape and the route', () => {
    const b = new BoundDeriver(realTime).alert('ServiceDown', { service: 'auth' });
    // The first message: group_interval (1m), since the alert may join a group Alertmanager still holds.
    assert.equal(b.fire.ms, 60_000 + 5000 + 5000 + 60_000 + 30_000);
    assert.equal(b.resolve.ms, 5000 + 5000 + 60_000 + 30_000);
  });

  it('an unknown alert cannot be bounded: a clear error instead of a guess', () => {
    assert.throws(() => new BoundDeriver(realTime).alert('NoSuchAlert'), /NoSuchAlert is not defined in monitoring\/rules/);
  });

  it("every alert of monitoring/rules can be bounded, and a resolve bound always includes its route's group_interval", () => {
    const d = new BoundDeriver(realTime);
    for (const [name] of d.rules.alerts) {
      const b = d.alert(name);
      assert.ok(b.resolve.ms >= b.route.groupIntervalMs + realTime.slackMs, name);
      assert.ok(b.fire.ms >= b.route.groupWaitMs + realTime.slackMs, name);
    }
  });

  it('follows a changed rule and a changed route (read at run time, not copied)', () => {
    const dir = join(scratch, 'monitoring');
    cpSync(MONITORING_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(join(MONITORING_DIR, 'test')) });
    const rules = join(dir, 'rules', 'services.alerts.yml');
    writeFileSync(rules, readFileSync(rules, 'utf8').replaceAll('result=~"failure|throttled"}[2m]', 'result=~"failure|throttled"}[10m]'));
    const am = join(dir, 'alertmanager', 'alertmanager.yml');
    const doc = parse(readFileSync(am, 'utf8')) as { route: { routes: Array<{ matchers: string[]; group_interval?: string }> } };
    const warning = doc.route.routes.find((r) => r.matchers.includes('severity="warning"'));
    assert.ok(warning);
    warning.group_interval = '5m';
    writeFileSync(am, JSON.stringify(doc));
    const b = new BoundDeriver(realTime, dir).alert('AuthLoginFailureSpike');
    assert.match(b.fire.derivation, /^10m window \+ 2m for /);
    assert.match(b.resolve.derivation, /^10m window .* 5m group_interval/);
  });

  it("an earlier drill's alerts are waited for at most as long as the slowest alert takes to resolve", () => {
    const d = new BoundDeriver(realTime);
    const slowest = Math.max(...[...d.rules.alerts.keys()].filter((n) => n !== 'Watchdog').map((n) => d.alert(n).resolve.ms));
    assert.equal(d.settleMs(), slowest);
    assert.ok(d.settleMs() >= d.alert('AuthLoginFailureSpike').resolve.ms);
  });

  it('routes: first matching child, timers inherited from the parent where unset', () => {
    const watchdog = routeFor({ alertname: 'Watchdog', severity: 'none' }, 1);
    assert.equal(watchdog.receiver, 'watchdog');
    assert.equal(watchdog.groupWaitMs, 0);
    const other = routeFor({ alertname: 'X', severity: 'info' }, 1);
    assert.equal(other.matchedBy, 'root route');
    assert.equal(other.groupIntervalMs, 120_000);
  });
});
