import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import { objectKeys } from '../src/storage/index.js';
import { buildTestApp, startTokenIssuer, tempDir } from './helpers.js';

const OWNER = '7b0d3c4e-6a57-4f5b-9a7e-3c2d1e0f9a8b';
const IMAGE = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';

/**
 * Issue 15, item 8: what a crash mid-upload leaves on one machine — an original with no row, a
 * `.tmp/*.part` never renamed — is cleaned without anyone running a command, because the service
 * reconciles on a timer (RECONCILE_INTERVAL_SECONDS; on by default with local storage).
 */
describe('periodic reconcile in the images service', () => {
  it('removes an orphan original and a stale .part file on its own, and leaves a fresh .part alone', { timeout: 150_000 }, async () => {
    const issuer = await startTokenIssuer();
    const dir = tempDir('periodic');
    const orphan = join(dir.path, objectKeys.original(OWNER, IMAGE));
    const stale = join(dir.path, '.tmp', 'deadbeefdeadbeef.part');
    const fresh = join(dir.path, '.tmp', 'cafebabecafebabe.part');
    mkdirSync(join(dir.path, '.tmp'), { recursive: true });
    mkdirSync(join(orphan, '..'), { recursive: true });
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const file of [orphan, stale]) {
      writeFileSync(file, 'left by a SIGKILL');
      utimesSync(file, hourAgo, hourAgo);
    }
    writeFileSync(fresh, 'a write in flight');
    const images = await buildTestApp({
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: dir.path,
      AUTH_JWKS_URL: issuer.jwksUrl,
      RECONCILE_INTERVAL_SECONDS: '1',
      RECONCILE_GRACE_SECONDS: '600',
    });
    try {
      await waitFor(async () => !existsSync(orphan) && !existsSync(stale), { what: 'orphan and stale .part removed by the timer', timeoutMs: 100_000 });
      assert.ok(existsSync(fresh), 'a .part younger than the grace period may be a write in flight');
    } finally {
      await images.close();
      await issuer.close();
      dir.remove();
    }
  });

  it('the reconcile command reports the temporary files it removed', async () => {
    const issuer = await startTokenIssuer();
    const dir = tempDir('reconcile-tmp');
    mkdirSync(join(dir.path, '.tmp'), { recursive: true });
    const stale = join(dir.path, '.tmp', 'aaaaaaaaaaaaaaaa.part');
    writeFileSync(stale, 'x');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(stale, old, old);
    const images = await buildTestApp({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path, AUTH_JWKS_URL: issuer.jwksUrl, RECONCILE_INTERVAL_SECONDS: '0' });
    try {
      assert.equal((await images.reconcile({ dryRun: true })).temporaryFilesRemoved, 0, 'a dry run touches nothing');
      assert.ok(existsSync(stale));
      assert.equal((await images.reconcile()).temporaryFilesRemoved, 1);
      assert.ok(!existsSync(stale));
    } finally {
      await images.close();
      await issuer.close();
      dir.remove();
    }
  });
});
