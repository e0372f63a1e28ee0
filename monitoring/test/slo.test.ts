import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { normaliseRepositoryUrl, repositoryUrl, rewriteRunbookLinks, runbookBaseUrl } from '../lib/links.js';
import { RUNBOOK_BASE_URL, rulesDir } from '../lib/paths.js';
import { ALERT_WINDOWS, BURN_RATE_ALERTS, budgetShareAtAlert } from '../lib/slo/policy.js';
import { SLO_ALERTS_FILE, SLO_RULES_FILE, sloAlertRulesYaml } from '../lib/slo/rules.js';
import { SloFileError, loadSlos, parseSlos } from '../lib/slo/schema.js';

/**
 * monitoring/slos.yaml and what is generated from it: the schema's errors, the names the drills, the
 * dashboard and `npm run slo` rely on, the burn-rate policy, the drills' time-scaled copy, and the
 * runbook links derived from the repository URL. promtool's behaviour tests are test/rules/slo*.test.yml.
 */

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groupsOf = (file: string) => (parse(readFileSync(join(rulesDir, file), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;

const valid = `
services:
  - name: api-service
    service: gateway
    slos:
      availability: { objective: 99.9, window: 30d, owner: platform-team, description: "Requests that did not fail on our side." }
      latency: { objective: 99, thresholdSeconds: 1, window: 28d, owner: platform-team, description: "Requests answered within one second." }
`;

describe('monitoring/slos.yaml', () => {
  it('defines an availability and a latency SLO for api-service, auth-service and images-service', () => {
    const slos = loadSlos();
    assert.deepEqual(
      slos.map((s) => `${s.name}/${s.service}/${s.slo}`),
      [
        'api-service/gateway/availability',
        'api-service/gateway/latency',
        'auth-service/auth/availability',
        'auth-service/auth/latency',
        'images-service/images/availability',
        'images-service/images/latency',
      ],
    );
    for (const s of slos) {
      assert.ok(['28d', '30d'].includes(s.window) && s.owner && s.description.length > 20, s.name);
      assert.equal(s.errorBudget, Number((1 - s.objective).toFixed(10)));
    }
  });

  it('computes budgets without floating-point noise', () => {
    const [availability, latency] = parseSlos(valid);
    assert.equal(availability?.errorBudget, 0.001);
    assert.equal(availability?.objective, 0.999);
    assert.equal(latency?.errorBudget, 0.01);
    assert.equal(latency?.thresholdSeconds, 1);
  });

  it('reports every problem at once, with its path in the file', () => {
    const bad = valid
      .replace('objective: 99.9', 'objective: 100')
      .replace('thresholdSeconds: 1', 'thresholdSeconds: 0.75')
      .replace('window: 28d', 'window: 7d')
      .replace('owner: platform-team,', 'ownr: x,');
    assert.throws(
      () => parseSlos(bad),
      (err: unknown) => {
        assert.ok(err instanceof SloFileError);
        const text = (err as Error).message;
        assert.match(text, /^monitoring\/slos\.yaml: invalid SLO definitions:/);
        assert.match(text, /services\[0\]\.slos\.availability\.objective: must be below 100/);
        assert.match(text, /services\[0\]\.slos\.latency\.thresholdSeconds: must be one of the request-duration histogram's buckets \(0\.005, .*2\.5, 5, 10\)/);
        assert.match(text, /services\[0\]\.slos\.latency\.window: must be one of 28d, 30d/);
        assert.match(text, /services\[0\]\.slos\.availability\.owner: must name the team/);
        assert.match(text, /services\[0\]\.slos\.availability: Unrecognized key: "ownr"/);
        return true;
      },
    );
  });

  it('refuses a duplicate service, an empty service and broken YAML', () => {
    const twice = valid + valid.replace('services:\n', '');
    assert.throws(() => parseSlos(twice), /services\[1\]: duplicate name api-service/);
    assert.throws(
      () => parseSlos('services:\n  - name: a\n    service: a\n    slos: {}\n'),
      /services\[0\]\.slos: needs at least one of availability, latency/,
    );
    assert.throws(() => parseSlos('services: [\n'), /not valid YAML/);
  });
});

describe('generated SLO rules', () => {
  const slos = loadSlos();
  const records = groupsOf(SLO_RULES_FILE).flatMap((g) => g.rules);
  const alerts = groupsOf(SLO_ALERTS_FILE).flatMap((g) => g.rules);

  it('record the SLI for every alert window and the SLO window, the objective, the budget and what remains of it', () => {
    for (const s of slos) {
      const names = records.filter((r) => r.labels?.service === s.service && r.labels.slo === s.slo).map((r) => r.record);
      for (const w of [...ALERT_WINDOWS, s.window]) assert.ok(names.includes(`slo:sli_error:ratio_rate${w}`), `${s.service}/${s.slo}: ratio_rate${w}`);
      for (const n of ['slo:objective:ratio', 'slo:error_budget:ratio', 'slo:error_budget_remaining:ratio'])
        assert.ok(names.includes(n), `${s.service}/${s.slo}: ${n}`);
    }
  });

  it('alert with the workbook pairs: page 14.4x 1h/5m and 6x 6h/30m, ticket 3x 1d/2h and 1x 3d/6h', () => {
    assert.deepEqual(
      BURN_RATE_ALERTS.map((a) => `${a.severity} ${a.factor} ${a.longWindow}/${a.shortWindow} ${(budgetShareAtAlert(a, '30d') * 100).toFixed(0)}%`),
      ['critical 14.4 1h/5m 2%', 'critical 6 6h/30m 5%', 'warning 3 1d/2h 10%', 'warning 1 3d/6h 10%'],
    );
    for (const s of slos) {
      const own = alerts.filter((a) => a.labels?.service === s.service && a.labels.slo === s.slo);
      assert.equal(own.length, 4);
      for (const [i, a] of own.entries()) {
        const policy = BURN_RATE_ALERTS[i];
        assert.ok(policy);
        assert.equal(a.alert, s.slo === 'availability' ? 'SLOAvailabilityBudgetBurn' : 'SLOLatencyBudgetBurn');
        assert.deepEqual(a.labels, {
          severity: policy.severity,
          service: s.service,
          slo: s.slo,
          long_window: policy.longWindow,
          short_window: policy.shortWindow,
        });
        assert.equal(a.expr.match(new RegExp(`/ ${s.errorBudget} > ${policy.factor}\\n`, 'g'))?.length, 2, a.expr);
        assert.equal(a.annotations?.runbook_url, `${RUNBOOK_BASE_URL}${a.alert}.md`);
        assert.match(a.annotations?.dashboard_url ?? '', /^http:\/\/localhost:3000\/d\/sre-slo\/slo\?var-service=\{\{ \$labels\.service \}\}&var-slo=/);
      }
    }
  });
});

describe('runbook links from the repository URL (issue 15, item 16)', () => {
  it('come from package.json repository', () => {
    const pkg = JSON.parse(readFileSync(join(rulesDir, '..', '..', 'package.json'), 'utf8')) as { repository: { url: string } };
    assert.equal(repositoryUrl({}), normaliseRepositoryUrl(pkg.repository.url));
    assert.equal(runbookBaseUrl({}), `${normaliseRepositoryUrl(pkg.repository.url)}/blob/main/docs/runbooks/`);
  });

  it('MONITORING_REPOSITORY_URL overrides it, and a bad value is refused clearly', () => {
    assert.equal(
      runbookBaseUrl({ MONITORING_REPOSITORY_URL: 'https://git.example.org/acme/platform/' }),
      'https://git.example.org/acme/platform/blob/main/docs/runbooks/',
    );
    assert.throws(
      () => repositoryUrl({ MONITORING_REPOSITORY_URL: 'acme/platform' }),
      /MONITORING_REPOSITORY_URL must be the https:\/\/ address of the repository/,
    );
  });

  it('accepts the usual package.json spellings', () => {
    assert.equal(normaliseRepositoryUrl('git+https://github.com/acme/p.git'), 'https://github.com/acme/p');
    assert.equal(normaliseRepositoryUrl('git@github.com:acme/p.git'), 'https://github.com/acme/p');
    assert.equal(normaliseRepositoryUrl('github:acme/p'), 'https://github.com/acme/p');
    assert.throws(() => normaliseRepositoryUrl('ftp://x'), /not an https/);
  });

  it('reach generated alerts and hand-written rules alike', () => {
    const base = 'https://git.example.org/acme/platform/blob/main/docs/runbooks/';
    assert.match(
      sloAlertRulesYaml(loadSlos(), base),
      /runbook_url: https:\/\/git\.example\.org\/acme\/platform\/blob\/main\/docs\/runbooks\/SLOLatencyBudgetBurn\.md/,
    );
    const rewritten = rewriteRunbookLinks(readFileSync(join(rulesDir, 'services.alerts.yml'), 'utf8'), base);
    assert.match(rewritten, /runbook_url: https:\/\/git\.example\.org\/acme\/platform\/blob\/main\/docs\/runbooks\/ServiceDown\.md\n/);
    assert.doesNotMatch(rewritten, /github\.com\/sre-platform/);
    assert.equal(rewriteRunbookLinks('runbook_url: "https://a.example/x/docs/runbooks/Foo.md"', base), `runbook_url: "${base}Foo.md"`);
  });
});
