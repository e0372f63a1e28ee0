import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, freePort, testPostgresUrl, waitFor, type TestDatabase } from '@sre/testkit';
import pg from 'pg';
import type { ReconcileReport } from '../src/reconcile.js';
import { createStorage, objectKeys, type ObjectStorage } from '../src/storage/index.js';
import * as fixtures from './fixtures/generate.js';
import { fileUpload, startS3Server, startTokenIssuer, testConfig, type S3Server, type TokenIssuer } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainTs = 'services/images/src/main.ts';
const nodeArgs = ['--conditions=development', '--import', 'tsx', mainTs];

describe('crash safety: SIGKILL in the middle of an upload, then reconcile', () => {
  const skip = testPostgresUrl() ? false : 'TEST_POSTGRES_URL not set (run through tools/test/run.sh)';
  let issuer: TokenIssuer;
  let s3: S3Server;
  let db: TestDatabase;
  let storage: ObjectStorage;
  let env: Record<string, string>;
  let child: ChildProcess | undefined;
  let publicUrl: string;
  let managementUrl: string;

  before(async () => {
    if (skip) return;
    issuer = await startTokenIssuer();
    s3 = await startS3Server();
    db = await createTestDatabase(testPostgresUrl()!, 'images');
    const [port, managementPort] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    managementUrl = `http://127.0.0.1:${managementPort}`;
    env = {
      ...s3.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      DATABASE_URL: db.url,
      AUTH_JWKS_URL: issuer.jwksUrl,
      LOG_LEVEL: 'warn',
      DRAIN_DELAY_MS: '0',
      FAULT_INJECTION: 'true',
    };
    storage = await createStorage(testConfig(env));
  });
  after(async () => {
    if (skip) return;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await storage.close();
    await s3.destroy();
    await db.drop();
    await issuer.close();
  });

  const startService = async () => {
    const proc = spawn(process.execPath, nodeArgs, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    child = proc;
    await waitFor(async () => (await fetch(`${managementUrl}/readyz`)).status === 200, { timeoutMs: 60_000, what: 'images service ready' });
    return proc;
  };
  const keys = async () => {
    const out: string[] = [];
    for await (const o of storage.list('')) out.push(o.key);
    return out.sort();
  };

  it('leaves no orphan objects and no dangling rows after restart + reconcile', { skip, timeout: 180_000 }, async (t) => {
    const owner = randomUUID();
    const auth = `Bearer ${await issuer.token(owner)}`;
    const upload = (body: { body: Buffer; contentType: string }) =>
      fetch(`${publicUrl}/`, { method: 'POST', body: new Uint8Array(body.body), headers: { authorization: auth, 'content-type': body.contentType } });

    let proc = await startService();
    const good = (await (await upload(fileUpload(await fixtures.validImage.jpeg(300, 200)))).json()) as { id: string };
    const goodKeys = [objectKeys.original(owner, good.id), objectKeys.thumbnail(owner, good.id)].sort();
    assert.deepEqual(await keys(), goodKeys);

    // Hold the next upload after its objects are written and before its row, then kill -9.
    const stall = await fetch(`${managementUrl}/fault/stall-uploads`, {
      method: 'POST',
      body: JSON.stringify({ enabled: true }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(stall.status, 200);
    const inFlight = upload(fileUpload(await fixtures.validImage.png(200, 200))).then(
      (r) => r.status,
      () => 'connection lost',
    );
    await waitFor(async () => (await keys()).length === 4, { timeoutMs: 30_000, what: 'the stalled upload to write its objects' });
    const exited = new Promise((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(await inFlight, 'connection lost');
    assert.equal((await keys()).length, 4, 'the crash left two orphan objects');

    // Plus a row whose objects are gone (e.g. deleted by hand from the bucket).
    const danglingId = randomUUID();
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined); // the database is dropped with force after the test
    await client.connect();
    t.after(() => client.end().catch(() => undefined));
    await client.query(
      `insert into images.images (id, owner_id, filename, content_type, width, height, size_bytes, etag, original_key, thumbnail_key, thumbnail_size_bytes, thumbnail_etag, created_at)
       values ($1, $2, 'gone.jpg', 'image/jpeg', 1, 1, 1, '"e"', $3, $4, 1, '"t"', now() - interval '1 minute')`,
      [danglingId, owner, objectKeys.original(owner, danglingId), objectKeys.thumbnail(owner, danglingId)],
    );

    proc = await startService();
    const listed = (await (await fetch(`${publicUrl}/`, { headers: { authorization: auth } })).json()) as { items: Array<{ id: string }> };
    assert.ok(!listed.items.some((i) => i.id !== good.id && i.id !== danglingId), 'the killed upload never became visible');

    const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, 'reconcile', '--grace-seconds', '0'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as ReconcileReport;
    assert.equal(report.orphanObjectsRemoved.length, 2);
    assert.deepEqual(report.danglingRowsRemoved, [danglingId]);

    assert.deepEqual(await keys(), goodKeys, "only the good image's objects remain");
    const rows = await client.query<{ id: string }>('select id from images.images');
    assert.deepEqual(
      rows.rows.map((r) => r.id),
      [good.id],
      "only the good image's row remains",
    );
    const content = await fetch(`${publicUrl}/${good.id}/content`, { headers: { authorization: auth } });
    assert.equal(content.status, 200);
    await content.arrayBuffer();

    const stopped = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await stopped, 0, 'graceful shutdown exits 0');
  });
});
