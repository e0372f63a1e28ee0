import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createStorage, ObjectNotFoundError, BucketMissingError, type ObjectStorage } from '../src/storage/index.js';
import { buildTestApp, startS3Server, startTokenIssuer, tempDir, testConfig, type S3Server } from './helpers.js';

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

async function keys(storage: ObjectStorage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

interface DriverSetup {
  env: (bucketSuffix: string) => Record<string, string>;
  teardown(): Promise<void>;
}

const drivers: Array<[string, () => Promise<DriverSetup>]> = [
  [
    'local directory driver',
    async () => {
      const dir = tempDir('storage');
      return { env: (suffix) => ({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: `${dir.path}/${suffix}` }), teardown: async () => dir.remove() };
    },
  ],
  [
    'S3 driver against s3rver',
    async () => {
      const s3: S3Server = await startS3Server();
      return { env: (suffix) => ({ ...s3.env, S3_BUCKET: `bucket-${suffix}` }), teardown: () => s3.destroy() };
    },
  ],
];

for (const [name, start] of drivers) {
  describe(name, () => {
    let setup: DriverSetup;
    before(async () => {
      setup = await start();
    });
    after(() => setup.teardown());

    it('reports a missing bucket when it may not create it, and creates it when allowed', async () => {
      const storage = await createStorage(testConfig(setup.env('missing')));
      await assert.rejects(storage.check(), BucketMissingError);
      await assert.rejects(storage.ensureBucket(false), BucketMissingError);
      await storage.ensureBucket(true);
      await storage.check();
      await storage.ensureBucket(true); // idempotent
      await storage.close();
    });

    it('puts, gets, lists, checks existence and deletes objects (delete is idempotent)', async () => {
      const storage = await createStorage(testConfig(setup.env('objects')));
      await storage.ensureBucket(true);
      const body = Buffer.from(`hello ${randomUUID()}`);
      const big = Buffer.alloc(9 * 1024 * 1024, 7); // above the multipart part size
      await storage.put('users/a/1/original', body, 'image/png');
      await storage.put('users/a/1/thumbnail.webp', Buffer.from('t'), 'image/webp');
      await storage.put('users/b/2/original', big, 'image/jpeg');
      const got = await storage.get('users/a/1/original');
      assert.equal(got.contentLength, body.length);
      assert.deepEqual(await readAll(got.body), body);
      assert.deepEqual(await readAll((await storage.get('users/b/2/original')).body), big);
      assert.deepEqual(await keys(storage, 'users/a/'), ['users/a/1/original', 'users/a/1/thumbnail.webp']);
      assert.deepEqual(await keys(storage), ['users/a/1/original', 'users/a/1/thumbnail.webp', 'users/b/2/original']);
      for await (const o of storage.list('users/b/')) assert.ok(Date.now() - o.lastModified.getTime() < 3_600_000);
      assert.equal(await storage.exists('users/a/1/original'), true);
      assert.equal(await storage.exists('users/a/9/original'), false);
      await assert.rejects(storage.get('users/a/9/original'), ObjectNotFoundError);
      await storage.delete('users/a/1/original');
      await storage.delete('users/a/1/original');
      assert.equal(await storage.exists('users/a/1/original'), false);
      await storage.close();
    });

    it('makes readiness fail while the bucket is missing and STORAGE_CREATE_BUCKET=false', async () => {
      const issuer = await startTokenIssuer();
      const images = await buildTestApp({ ...setup.env('never-created'), STORAGE_CREATE_BUCKET: 'false', AUTH_JWKS_URL: issuer.jwksUrl });
      try {
        const res = await images.management.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503);
        const report = res.json() as { checks: { storage: { ok: boolean; error: string }; database: { ok: boolean } } };
        assert.equal(report.checks.storage.ok, false);
        assert.match(report.checks.storage.error, /bucket missing/);
        assert.equal(report.checks.database.ok, true);
        assert.equal((await images.management.inject({ method: 'GET', url: '/livez' })).statusCode, 200, 'liveness ignores storage');
        // Created out of band: ready without a restart.
        const admin = await createStorage(testConfig(setup.env('never-created')));
        await admin.ensureBucket(true);
        await admin.close();
        assert.equal((await images.management.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      } finally {
        await images.close();
        await issuer.close();
      }
    });
  });
}
