import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm start` runs on the Node.js 20.19+ of a fresh Debian/Ubuntu machine (package.json engines), but
 * the images run the major `.nvmrc` names (the current LTS line). A developer on an older major is told
 * once, at start (the services the launcher spawns stay quiet), so a difference between the two is
 * not a surprise. See docs/adr/0012-node-lts-and-generated-dockerfiles.md.
 */
export function nodeVersionWarning(current: string, nvmrc: string): string | undefined {
  const imagesMajor = Number(/^v?(\d+)/.exec(nvmrc.trim())?.[1]);
  const currentMajor = Number(/^v?(\d+)/.exec(current)?.[1]);
  if (!Number.isInteger(imagesMajor) || !Number.isInteger(currentMajor) || currentMajor >= imagesMajor) return undefined;
  return `note: Node.js ${current} runs this platform, but the images run Node.js ${imagesMajor} (.nvmrc); \`nvm use\` matches them.`;
}

export function readNvmrc(repoRoot: string): string {
  return readFileSync(join(repoRoot, '.nvmrc'), 'utf8');
}
