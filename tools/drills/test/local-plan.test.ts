import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { plannedLocalTarget } from '../src/targets/local.js';
import { SCENARIOS } from '../src/types.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

describe('local target: plans', () => {
  const alerts = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'monitoring', 'rules')).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(readFileSync(join(ROOT, 'monitoring', 'rules', file), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
    for (const g of doc.groups) for (const r of g.rules) if (r.alert) alerts.add(r.alert);
  }

  it('every alert a local drill waits for (or expects to stay silent) is defined in monitoring/rules', () => {
    const target = plannedLocalTarget(10);
    for (const scenario of SCENARIOS) {
      const plan = target.plan(scenario);
      for (const e of plan.expectations) if (e.kind === 'alert-fires' || e.kind === 'alert-silent') assert.ok(alerts.has(e.alertname), `${scenario}: ${e.alertname}`);
      for (const a of plan.resolves) assert.ok(alerts.has(a), `${scenario}: ${a}`);
      assert.ok(plan.inject.length > 0 && plan.rollback.length > 0, `${scenario} injects and rolls back`);
    }
  });

  it('bounds follow the time scale: real time keeps the seed\'s 2 minutes for the 1-minute alerts', () => {
    const real = plannedLocalTarget(1).plan('readiness-failure').expectations.find((e) => e.kind === 'alert-fires');
    const scaled = plannedLocalTarget(10).plan('readiness-failure').expectations.find((e) => e.kind === 'alert-fires');
    assert.equal(real?.kind === 'alert-fires' && real.withinMs, 120_000);
    assert.equal(scaled?.kind === 'alert-fires' && scaled.withinMs, 27_000);
  });

  it('`npm run drill -- all --dry-run` prints the local plans without starting anything, and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/drills/main.ts'), 'all', '--dry-run', '--time-scale', '10'], { cwd: ROOT, timeout: 60_000 }, (err, out) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out }),
      ),
    );
    assert.equal(code, 0, stdout);
    for (const scenario of SCENARIOS) assert.match(stdout, new RegExp(`drill ${scenario} on local`));
    assert.match(stdout, /restart auth with JWT_PRIVATE_KEY unset/);
    assert.match(stdout, /kill -KILL <pid of images#1>/);
    assert.match(stdout, /curl -fsS -X PUT -H "x-chaos-token: \$CHAOS_ADMIN_TOKEN".*\/chaos\/faults\/readiness/);
    assert.doesNotMatch(stdout, /starting the local platform/);
  });

  it('rejects an unknown scenario with the usage and exit code 2', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/drills/main.ts'), 'meteor-strike'], { cwd: ROOT, timeout: 60_000 }, (err, _out, errOut) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr: errOut }),
      ),
    );
    assert.equal(code, 2);
    assert.match(stderr, /unknown scenario 'meteor-strike'/);
    assert.match(stderr, /scenarios: secret-deletion, pod-deletion, readiness-failure/);
  });
});
