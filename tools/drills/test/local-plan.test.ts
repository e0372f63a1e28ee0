import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { scenariosFor } from '../src/scenarios.js';
import { plannedLocalTarget } from '../src/targets/local.js';
import { SCENARIOS, type AlertExpectation } from '../src/types.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

describe('local target: plans', () => {
  const alerts = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'monitoring', 'rules')).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(readFileSync(join(ROOT, 'monitoring', 'rules', file), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
    for (const g of doc.groups) for (const r of g.rules) if (r.alert) alerts.add(r.alert);
  }

  it('every alert a local drill waits for (or expects to stay silent) is defined in monitoring/rules', () => {
    const target = plannedLocalTarget(10);
    for (const scenario of scenariosFor('local', SCENARIOS)) {
      const plan = target.plan(scenario);
      for (const e of plan.expectations)
        if (e.kind === 'alert-fires' || e.kind === 'alert-silent') assert.ok(alerts.has(e.alertname), `${scenario}: ${e.alertname}`);
      for (const r of plan.resolves) assert.ok(alerts.has(r.alertname), `${scenario}: ${r.alertname}`);
      assert.ok(plan.inject.length > 0 && plan.rollback.length > 0, `${scenario} injects and rolls back`);
    }
  });

  it("alert and resolve bounds are derived from the rule and route at the run's time scale, and say how", () => {
    // ServiceNotReady: for 1m, no range, warning route (group_wait 30s, group_interval 2m); observe
    // scrapes and evaluates every 5 s at real time, every 1 s scaled; slack 30 s at both scales.
    const real = plannedLocalTarget(1).plan('readiness-failure');
    const scaled = plannedLocalTarget(10).plan('readiness-failure');
    const fires = (p: typeof real) => p.expectations.find((e): e is AlertExpectation => e.kind === 'alert-fires' && e.alertname === 'ServiceNotReady');
    // The first message: up to group_interval, the alert may join a group Alertmanager still holds.
    assert.equal(fires(real)?.withinMs, 60_000 + 5000 + 5000 + 120_000 + 30_000);
    assert.equal(fires(scaled)?.withinMs, 6000 + 1000 + 1000 + 12_000 + 30_000);
    assert.equal(real.resolves[0]?.withinMs, 5000 + 5000 + 120_000 + 30_000);
    assert.match(
      real.resolves[0]?.derivation ?? '',
      /^0s window \+ 5s eval \+ 5s scrape \+ 2m group_interval \(severity="warning" route\) \+ 30s slack = 2m40s$/,
    );
    // The observation lasts as long as the slowest bound needs, not a fixed minute.
    assert.ok(real.maxObserveMs >= 130_000);
  });

  it('error-burst at real time waits for the 2-minute window and the critical group_interval before calling the alert unresolved', () => {
    const plan = plannedLocalTarget(1).plan('error-burst');
    // SLOAvailabilityBudgetBurn: its 5m short window must clear before the page resolves.
    const r = plan.resolves[0];
    // The old fixed 60 s bound failed this drill at time scale 1 (issue 12).
    assert.ok(r && r.withinMs > 180_000, `resolve bound ${r?.withinMs}`);
    assert.match(r?.derivation ?? '', /^[1-9]\d*m window .* 1m group_interval \(severity="critical" route\)/);
  });

  it('`npm run drill -- all --dry-run` prints the local plans without starting anything, and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(
        process.execPath,
        ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/drills/main.ts'), 'all', '--dry-run', '--time-scale', '10'],
        { cwd: ROOT, timeout: 60_000 },
        (err, out) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out }),
      ),
    );
    assert.equal(code, 0, stdout);
    for (const scenario of scenariosFor('local', SCENARIOS)) assert.match(stdout, new RegExp(`drill ${scenario} on local`));
    assert.doesNotMatch(stdout, /drill load-spike on local/);
    assert.match(stdout, /restart auth with JWT_PRIVATE_KEY unset/);
    assert.match(stdout, /kill -KILL <pid of images#1>/);
    assert.match(stdout, /curl -fsS -X PUT -H "x-chaos-token: \$CHAOS_ADMIN_TOKEN".*\/chaos\/faults\/readiness/);
    assert.doesNotMatch(stdout, /starting the local platform/);
  });

  it('rejects an unknown scenario with the usage and exit code 2', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/drills/main.ts'), 'meteor-strike'],
        { cwd: ROOT, timeout: 60_000 },
        (err, _out, errOut) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr: errOut }),
      ),
    );
    assert.equal(code, 2);
    assert.match(stderr, /unknown scenario 'meteor-strike'/);
    assert.match(stderr, /scenarios: secret-deletion, pod-deletion, readiness-failure/);
  });
});
