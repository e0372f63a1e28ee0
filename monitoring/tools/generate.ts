/**
 * npm run monitoring:generate        writes the generated files (SLO rules, dashboards JSON, k8s ConfigMaps)
 *                                    and rewrites runbook links to the repository's URL (monitoring/lib/links.ts)
 * npm run monitoring:generate -- --check   exits 1 and names the files that differ (CI, pre-commit)
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles, linkedFiles } from '../lib/generate.js';
import { repoRoot } from '../lib/paths.js';

const check = process.argv.includes('--check');
const stale: string[] = [];
// Links first: the rules ConfigMap embeds the rule files with their links already rewritten.
for (const [path, content] of [...linkedFiles(), ...generatedFiles()]) {
  const full = join(repoRoot, path);
  const current = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    stale.push(path);
  } else {
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    console.log(`monitoring:generate: wrote ${path}`);
  }
}
if (check && stale.length > 0) {
  console.error(`monitoring:generate: out of date (run npm run monitoring:generate): ${stale.join(', ')}`);
  process.exit(1);
}
