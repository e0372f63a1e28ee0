/** Writes services/<name>/Dockerfile from tools/containers/src/dockerfiles.ts (npm run containers:generate). */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderDockerfile, SERVICE_DOCKERFILES } from './src/dockerfiles.js';

const root = resolve(import.meta.dirname, '..', '..');
for (const spec of SERVICE_DOCKERFILES) {
  const file = join(root, 'services', spec.dir, 'Dockerfile');
  writeFileSync(file, renderDockerfile(spec));
  console.log(`containers: wrote ${file.slice(root.length + 1)}`);
}
