import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runbooksDir } from '../lib/paths.js';
import { alertNames, loadRules } from '../lib/rules.js';

/** Every alert has docs/runbooks/<Alert>.md (its runbook_url), and every runbook belongs to an alert. */
describe('runbooks', () => {
  const alerts = alertNames();
  const runbooks = readdirSync(runbooksDir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.slice(0, -3))
    .sort();

  it('every alert has a runbook file', () => {
    const missing = alerts.filter((a) => !existsSync(join(runbooksDir, `${a}.md`)));
    assert.deepEqual(missing, [], `alerts without docs/runbooks/<Alert>.md: ${missing.join(', ')}`);
  });

  it('every runbook has an alert', () => {
    const orphans = runbooks.filter((r) => !alerts.includes(r));
    assert.deepEqual(orphans, [], `runbooks without an alert: ${orphans.join(', ')}`);
  });

  it('every runbook explains its for: duration and names its severity and rule file', () => {
    for (const alert of alerts) {
      const text = readFileSync(join(runbooksDir, `${alert}.md`), 'utf8');
      assert.match(text, new RegExp(`^# ${alert}\\n`), alert);
      for (const section of ['## What it means', '## Why this `for:`', '## Impact', '## Diagnose', '## Fix'])
        assert.ok(text.includes(section), `${alert}: ${section}`);
      const rules = loadRules().alerts.filter((a) => a.alert === alert);
      for (const rule of rules) {
        assert.ok(text.includes(rule.labels.severity ?? '?'), `${alert}: severity ${rule.labels.severity}`);
        assert.ok(text.includes(`monitoring/rules/${rule.file.split('/').pop()}`), `${alert}: rule file`);
        const duration = rule.for && !/^0[smh]$/.test(rule.for) ? `**${humanFor(rule.for)}` : '**No `for:`';
        assert.ok(text.includes(duration), `${alert}: the Why section must state ${duration}`);
      }
    }
  });

  it('the runbook index lists every alert', () => {
    const index = readFileSync(join(runbooksDir, 'README.md'), 'utf8');
    for (const alert of alerts) assert.ok(index.includes(`(${alert}.md)`), alert);
  });
});

function humanFor(duration: string): string {
  const m = /^(\d+)(m|h|s)$/.exec(duration);
  if (!m) return duration;
  const n = Number(m[1]);
  const unit = m[2] === 'm' ? 'minute' : m[2] === 'h' ? 'hour' : 'second';
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
