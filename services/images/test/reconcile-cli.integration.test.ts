import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from './helpers.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Issue 15, item 14: `npm run reconcile -w services/images` must work in a fresh clone, without `npm run build`. */
describe('npm run reconcile -w services/images', () => {
  it('runs from the sources (no dist/ needed) and prints its JSON report', { timeout: 180_000 }, async () => {
    const dir = tempDir('reconcile-cli');
    try {
      const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'reconcile', '-w', 'services/images', '--', '--dry-run'], {
        cwd: REPO_ROOT,
        timeout: 170_000,
        env: {
          ...process.env,
          STORAGE_DRIVER: 'local',
          STORAGE_LOCAL_DIR: join(dir.path, 'objects'),
          PGLITE_DATA_DIR: join(dir.path, 'pglite'),
          AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
          LOG_LEVEL: 'silent',
        },
      });
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { dryRun: boolean; orphanObjectsRemoved: unknown[] };
      assert.equal(report.dryRun, true);
      assert.deepEqual(report.orphanObjectsRemoved, []);
    } finally {
      dir.remove();
    }
  });

  it('refuses to run on an empty in-memory database, where every stored object would look like an orphan', { timeout: 180_000 }, async () => {
    const dir = tempDir('reconcile-memory');
    try {
      const run = promisify(execFile)(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/images/src/main.ts', 'reconcile'], {
        cwd: REPO_ROOT,
        timeout: 170_000,
        env: { PATH: process.env.PATH ?? '', STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: join(dir.path, 'objects'), LOG_LEVEL: 'silent' },
      });
      await assert.rejects(run, (err: { code?: number; stderr?: string }) => err.code === 2 && /set DATABASE_URL or PGLITE_DATA_DIR/.test(err.stderr ?? ''));
    } finally {
      dir.remove();
    }
  });
});
