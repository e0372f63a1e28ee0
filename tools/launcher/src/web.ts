import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = fileURLToPath(new URL('../../../packages/web', import.meta.url));
export const WEB_DIST = join(WEB_DIR, 'dist');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when dist/ is missing or older than any source of the web app. */
export function webBuildIsStale(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((p) => join(WEB_DIR, p)).filter((p) => existsSync(p));
  return sources.some((p) => newestMtime(p) > built);
}

/**
 * Builds the web app with Vite when needed (about a second). Returns whether it built. Several
 * launchers (parallel test files) may start at once: a lock directory makes one build while the
 * others wait, then find dist/ fresh, instead of emptying it under a running gateway.
 */
export async function ensureWebBuilt(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && !webBuildIsStale()) return false;
  const lock = join(WEB_DIR, '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed build is taken over after a minute.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another web build (${lock})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!options.force && !webBuildIsStale()) return false;
    const { build } = await import('vite');
    await build({ root: WEB_DIR, configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
