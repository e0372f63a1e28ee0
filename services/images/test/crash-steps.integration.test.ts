/**
 * SIGKILL at each step of an upload (service.ts: temp file written → original stored → thumbnail
 * stored → row inserted), with local storage and the test PostgreSQL, then the reconcile CLI: no
 * orphan object, no stale `.tmp/*.part`, no row without its objects, and complete uploads untouched.
 * The process is held at the step by the test-only FAULT_INJECTION route `POST /fault/stall-uploads`
 * with `at: <step>`, so the kill lands exactly there (no timing).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, freePort, testPostgresUrl, waitFor, type TestDatabase } from '@sre/testkit';
import pg from 'pg';
import type { ReconcileReport } from '../src/reconcile.js';
import { UPLOAD_STEPS, type UploadStep } from '../src/service.js';
import { objectKeys } from '../src/storage/index.js';
import * as fixtures from './fixtures/generate.js';
import { buildTestApp, fileUpload, startTokenIssuer, type TokenIssuer } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const nodeArgs = ['--conditions=development', '--import', 'tsx', 'services/images/src/main.ts'];
/** The reconcile's grace in this test: what is older than this is judged (the `.part` bound too). */
const GRACE_SECONDS = 60;

describe('the test-only stall route', () => {
  it('refuses an unknown step with a catalogued 400, and is absent without FAULT_INJECTION', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'images-stall-'));
    const env = { STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir, AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks' };
    const images = await buildTestApp({ ...env, FAULT_INJECTION: 'true' });
    const plain = await buildTestApp(env);
    t.after(async () => {
      await images.close();
      await plain.close();
      await rm(dir, { recursive: true, force: true });
    });
    const stall = (app: typeof images, body: object) => app.management.inject({ method: 'POST', url: '/fault/stall-uploads', payload: body });
    const bad = await stall(images, { enabled: true, at: 'halfway' });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { error: { code: string } }).error.code, 'IMAGES_FAULT_INVALID_STEP');
    assert.deepEqual((await stall(images, { enabled: true })).json(), { stallUploads: true, at: 'objects-stored' });
    assert.deepEqual((await stall(images, { enabled: false, at: 'temp-written' })).json(), { stallUploads: false, at: null });
    assert.equal((await stall(plain, { enabled: true })).statusCode, 404);
  });
});

describe('crash safety: SIGKILL at each step of an upload, then reconcile (local storage)', () => {
  const skip = testPostgresUrl() ? false : 'TEST_POSTGRES_URL not set (run through tools/test/run.sh)';
  let issuer: TokenIssuer;
  let child: ChildProcess | undefined;

  before(async () => {
    if (skip) return;
    issuer = await startTokenIssuer();
  });
  after(async () => {
    if (skip) return;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await issuer.close();
  });

  /** Every file under the storage directory, relative, `.tmp/` included. */
  const files = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  };
  const objectFiles = async (dir: string) => (await files(dir)).filter((f) => !f.startsWith('.tmp/'));
  const partFiles = async (dir: string) => (await files(dir)).filter((f) => f.startsWith('.tmp/') && f.endsWith('.part'));

  /** Makes everything the crash left look older than the grace period, as a real later run would see it. */
  const age = async (dir: string, client: pg.Client) => {
    const past = new Date(Date.now() - 2 * GRACE_SECONDS * 1000);
    for (const f of await files(dir)) await utimes(join(dir, f), past, past);
    await client.query(`update images.images set created_at = created_at - interval '${2 * GRACE_SECONDS} seconds'`);
  };

  for (const step of UPLOAD_STEPS) {
    it(`killed at ${step}: the reconcile leaves only complete uploads, each with its objects`, { skip, timeout: 360_000 }, async (t) => {
      const db: TestDatabase = await createTestDatabase(testPostgresUrl()!, 'images');
      const dir = await mkdtemp(join(tmpdir(), 'images-crash-'));
      const client = new pg.Client({ connectionString: db.url });
      client.on('error', () => undefined); // the database is dropped with force after the test
      t.after(async () => {
        await client.end().catch(() => undefined);
        await db.drop();
        await rm(dir, { recursive: true, force: true });
      });
      const [port, managementPort] = [await freePort(), await freePort()];
      const publicUrl = `http://127.0.0.1:${port}`;
      const managementUrl = `http://127.0.0.1:${managementPort}`;
      const env: Record<string, string> = {
        HOST: '127.0.0.1',
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        DATABASE_URL: db.url,
        AUTH_JWKS_URL: issuer.jwksUrl,
        STORAGE_DRIVER: 'local',
        STORAGE_LOCAL_DIR: dir,
        // The periodic reconcile stays out of the way: the test runs the CLI itself.
        RECONCILE_INTERVAL_SECONDS: '0',
        RECONCILE_GRACE_SECONDS: String(GRACE_SECONDS),
        LOG_LEVEL: 'warn',
        DRAIN_DELAY_MS: '0',
        FAULT_INJECTION: 'true',
      };
      const proc = spawn(process.execPath, nodeArgs, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
      child = proc;
      await waitFor(async () => (await fetch(`${managementUrl}/readyz`)).status === 200, { timeoutMs: 150_000, what: 'images service ready' });
      await client.connect();

      const owner = randomUUID();
      const auth = `Bearer ${await issuer.token(owner)}`;
      const upload = (body: { body: Buffer; contentType: string }) =>
        fetch(`${publicUrl}/`, { method: 'POST', body: new Uint8Array(body.body), headers: { authorization: auth, 'content-type': body.contentType } });
      const good = (await (await upload(fileUpload(await fixtures.validImage.jpeg(300, 200)))).json()) as { id: string };
      const goodKeys = [objectKeys.original(owner, good.id), objectKeys.thumbnail(owner, good.id)].sort();
      assert.deepEqual(await objectFiles(dir), goodKeys);
      const goodBytes = await Promise.all(goodKeys.map((k) => readFile(join(dir, k))));

      const stall = await fetch(`${managementUrl}/fault/stall-uploads`, {
        method: 'POST',
        body: JSON.stringify({ enabled: true, at: step }),
        headers: { 'content-type': 'application/json' },
      });
      assert.deepEqual(await stall.json(), { stallUploads: true, at: step });
      const inFlight = upload(fileUpload(await fixtures.validImage.png(200, 200))).then(
        (r) => r.status,
        () => 'connection lost',
      );
      const rows = async () =>
        (
          await client.query<{ id: string; original_key: string; thumbnail_key: string }>(
            'select id, original_key, thumbnail_key from images.images order by id',
          )
        ).rows;
      const reached: Record<UploadStep, () => Promise<boolean>> = {
        'temp-written': async () => (await partFiles(dir)).length === 1 && (await objectFiles(dir)).length === 2,
        'original-stored': async () => (await objectFiles(dir)).length === 3,
        'objects-stored': async () => (await objectFiles(dir)).length === 4 && (await rows()).length === 1,
        'row-inserted': async () => (await rows()).length === 2,
      };
      await waitFor(reached[step], { timeoutMs: 60_000, what: `the upload to reach ${step}` });
      const exited = new Promise((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
      proc.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      assert.equal(await inFlight, 'connection lost');
      const committed = step === 'row-inserted';
      // What the crash left behind, so the assertions below prove the reconcile removed something.
      const leftObjects = { 'temp-written': 2, 'original-stored': 3, 'objects-stored': 4, 'row-inserted': 4 }[step];
      assert.equal((await objectFiles(dir)).length, leftObjects);
      if (step === 'temp-written') assert.equal((await partFiles(dir)).length, 1, 'the crash left a .part file');

      // A fresh .part (another upload's, in flight) is younger than the bound: the reconcile keeps it.
      await age(dir, client);
      const fresh = join(dir, '.tmp', 'in-flight.part');
      await writeFile(fresh, 'x');

      const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, 'reconcile'], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        timeout: 120_000,
      });
      const report = JSON.parse(stdout.trim().split('\n').pop()!) as ReconcileReport & { temporaryFilesRemoved: number };
      assert.equal(report.orphanObjectsRemoved.length, committed ? 0 : leftObjects - 2, JSON.stringify(report));
      assert.deepEqual(report.danglingRowsRemoved, []);
      assert.equal(report.temporaryFilesRemoved, step === 'temp-written' ? 1 : 0);

      // No .part older than the bound; the fresh one stays.
      const parts = await partFiles(dir);
      assert.deepEqual(parts, ['.tmp/in-flight.part']);
      for (const p of parts) assert.ok((await stat(join(dir, p))).mtimeMs > Date.now() - GRACE_SECONDS * 1000);
      // Every row has both objects, every object has its row: nothing orphaned, nothing dangling.
      const after = await rows();
      const expectedKeys = after.flatMap((r) => [r.original_key, r.thumbnail_key]).sort();
      assert.deepEqual(await objectFiles(dir), expectedKeys);
      for (const key of expectedKeys) assert.ok(existsSync(join(dir, key)), `${key} is missing`);
      // The complete upload is untouched; the killed one survives only if it had committed.
      assert.ok(
        after.some((r) => r.id === good.id),
        'the complete upload was removed',
      );
      assert.equal(after.length, committed ? 2 : 1);
      for (const [i, key] of goodKeys.entries()) assert.ok((await readFile(join(dir, key))).equals(goodBytes[i]!), `${key} changed`);
    });
  }
});
