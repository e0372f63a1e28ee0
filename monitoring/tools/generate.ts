/**
 * npm run monitoring:generate        writes the generated files (dashboards JSON, k8s ConfigMaps)
 * npm run monitoring:generate -- --check   exits 1 and names the files that differ (CI, pre-commit)
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedFiles } from '../lib/generate.js';
import { repoRoot } from '../lib/paths.js';

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [path, content] of generatedFiles()) {
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
