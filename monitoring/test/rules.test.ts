import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { RUNBOOK_BASE_URL, GRAFANA_BASE_URL, monitoringDir, rulesDir } from '../lib/paths.js';
import { loadRules, ruleFiles } from '../lib/rules.js';
import { needPromtool, run, tempDir } from './helpers.js';

/**
 * Alert and recording rules: promtool check rules, promtool test rules (monitoring/test/rules/*.test.yml:
 * each alert firing with exact labels and annotations at the expected time, and silent where it must
 * be), and the conventions every alert follows.
 */

const testsDir = join(monitoringDir, 'test', 'rules');
const testFiles = readdirSync(testsDir)
  .filter((f) => f.endsWith('.test.yml'))
  .sort()
  .map((f) => join(testsDir, f));

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}
interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: AlertRuleTest[] }>;
}

const alertTests = testFiles.flatMap((file) =>
  (parse(readFileSync(file, 'utf8')) as PromtoolTestFile).tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => ({ file, test: t.name, ...a }))),
);

describe('Prometheus rules', () => {
  it('pass promtool check rules', needPromtool(), async () => {
    const result = await run('promtool', ['check', 'rules', ...ruleFiles()]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  for (const file of testFiles) {
    it(`pass promtool test rules ${file.slice(monitoringDir.length + 1)}`, needPromtool(), async () => {
      // The SLO tests evaluate days of series: minutes of CPU on a busy machine.
      const result = await run('promtool', ['test', 'rules', file], { timeoutMs: 900_000 });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  }

  it('every alert is tested firing (with every annotation) and staying silent', () => {
    const { alerts } = loadRules();
    const names = [...new Set(alerts.map((a) => a.alert))];
    for (const name of names) {
      const firing = alertTests.filter((t) => t.alertname === name && (t.exp_alerts?.length ?? 0) > 0);
      const silent = alertTests.filter((t) => t.alertname === name && (t.exp_alerts?.length ?? 0) === 0);
      assert.ok(firing.length > 0, `${name} has no promtool test where it fires`);
      if (name !== 'Watchdog') assert.ok(silent.length > 0, `${name} has no promtool test where it stays silent`);
      for (const t of firing) {
        for (const expected of t.exp_alerts ?? []) {
          assert.deepEqual(
            Object.keys(expected.exp_annotations ?? {}).sort(),
            ['dashboard_url', 'description', 'runbook_url', 'summary'],
            `${name} in "${t.test}": expect every annotation`,
          );
          assert.ok(expected.exp_labels?.severity, `${name} in "${t.test}": expect the severity label`);
        }
      }
    }
  });

  it('the seed scenarios are each detected within 2 minutes of the action', () => {
    const scenarios = alertTests.filter((t) => t.file.endsWith('scenarios.test.yml') && t.test.startsWith('seed scenario') && (t.exp_alerts?.length ?? 0) > 0);
    for (const prefix of ['seed scenario 1', 'seed scenario 3']) {
      const fired = scenarios.filter((t) => t.test.startsWith(prefix));
      assert.ok(fired.length > 0, `${prefix} expects no firing alert`);
      assert.ok(
        fired.every((t) => seconds(t.eval_time) <= 120),
        `${prefix}: an expected alert fires later than 2 minutes`,
      );
    }
  });

  it('every alert has a known severity, summary, description, runbook_url and dashboard_url', () => {
    for (const a of loadRules().alerts) {
      assert.ok(['critical', 'warning', 'none'].includes(a.labels.severity ?? ''), `${a.alert}: severity ${a.labels.severity}`);
      assert.ok(a.annotations.summary && a.annotations.description, `${a.alert}: summary and description`);
      assert.equal(a.annotations.runbook_url, `${RUNBOOK_BASE_URL}${a.alert}.md`, `${a.alert}: runbook_url`);
      assert.ok(a.annotations.dashboard_url?.startsWith(`${GRAFANA_BASE_URL}/d/sre-`), `${a.alert}: dashboard_url`);
      if (a.alert !== 'Watchdog' && a.alert !== 'KubeContainerOOMKilled')
        assert.ok(a.for && a.for !== '0m', `${a.alert} pages on a single evaluation (no for:)`);
    }
  });

  it('the tests can fail: promtool test rules rejects a rule whose for: changed', needPromtool(), async () => {
    const dir = tempDir('mutant');
    try {
      const rules = join(dir.path, 'rules');
      const tests = join(dir.path, 'test', 'rules');
      mkdirSync(rules, { recursive: true });
      mkdirSync(tests, { recursive: true });
      for (const f of readdirSync(rulesDir)) copyFileSync(join(rulesDir, f), join(rules, f));
      const services = join(rules, 'services.alerts.yml');
      const original = readFileSync(services, 'utf8');
      const mutated = original.replace(/(alert: ServiceInstanceDown\n\s+expr: .*\n\s+for: )1m/, '$12m');
      assert.notEqual(mutated, original);
      writeFileSync(services, mutated);
      copyFileSync(join(testsDir, 'services.test.yml'), join(tests, 'services.test.yml'));
      const result = await run('promtool', ['test', 'rules', join(tests, 'services.test.yml')]);
      assert.notEqual(result.code, 0);
      assert.match(result.stdout + result.stderr, /ServiceInstanceDown/);
    } finally {
      dir.remove();
    }
  });
});

function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)(h|m|s)/g)) total += Number(n) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  return total;
}
