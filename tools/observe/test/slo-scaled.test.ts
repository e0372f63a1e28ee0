import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { rulesDir } from '@sre/monitoring/paths';
import { SLO_ALERTS_FILE, SLO_RULES_FILE } from '@sre/monitoring/slo-rules';
import { needPromtool, run, tempDir } from '@sre/monitoring/testing';
import { scaledRules } from '../src/config.js';

// Moved from monitoring/test/slo.test.ts: the time scaling is this tool's (monitoring does not import tools).

interface Rule {
  record?: string;
  expr: string;
  for?: string;
}

describe('the SLO rules, time-scaled for drills', () => {
  it('scale with the drills (tools/observe): every range and for: divided, 3d and 30d included, still valid rules', needPromtool(), async () => {
    const dir = tempDir('slo-scaled');
    try {
      const scaledRecords = parse(scaledRules(join(rulesDir, SLO_RULES_FILE), 10, 1)) as { groups: Array<{ rules: Rule[] }> };
      const byName = new Map(scaledRecords.groups[0]?.rules.map((r) => [r.record, r.expr]));
      assert.match(byName.get('slo:sli_error:ratio_rate1h') ?? '', /\[360s\]/);
      assert.match(byName.get('slo:sli_error:ratio_rate3d') ?? '', /\[25920s\]/);
      assert.match(byName.get('slo:sli_error:ratio_rate30d') ?? '', /\[259200s\]/);
      assert.match(byName.get('slo:sli_error:ratio_rate5m') ?? '', /\[30s\]/);
      const scaledAlerts = parse(scaledRules(join(rulesDir, SLO_ALERTS_FILE), 10, 1)) as { groups: Array<{ rules: Rule[] }> };
      assert.deepEqual([...new Set(scaledAlerts.groups.flatMap((g) => g.rules.map((r) => r.for)))].sort(), ['12s', '90s']);
      const files = [SLO_RULES_FILE, SLO_ALERTS_FILE].map((f) => {
        const out = join(dir.path, f);
        writeFileSync(out, scaledRules(join(rulesDir, f), 10, 1));
        return out;
      });
      const result = await run('promtool', ['check', 'rules', ...files]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
    } finally {
      dir.remove();
    }
  });
});
