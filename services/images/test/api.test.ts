import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, pgliteSuiteSkip, testPostgresUrl, type TestDatabase } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import * as fixtures from './fixtures/generate.js';
import { allKeys, buildTestApp, fileUpload, startS3Server, startTokenIssuer, tempDir, type ErrorResponse, type S3Server, type TokenIssuer } from './helpers.js';

interface Setup {
  env: Record<string, string>;
  database?: 'pglite';
  teardown: () => Promise<void>;
}

/** The same behaviour on both storage drivers and both databases. */
const variants: Array<[string, () => Promise<Setup | undefined>]> = [
  [
    'local directory + PGlite',
    async () => {
      const dir = tempDir('api');
      return { env: { STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path }, database: 'pglite', teardown: async () => dir.remove() };
    },
  ],
  [
    'S3 (s3rver) + PostgreSQL',
    async () => {
      const adminUrl = testPostgresUrl();
      if (!adminUrl) return undefined;
      const db: TestDatabase = await createTestDatabase(adminUrl, 'images');
      const s3: S3Server = await startS3Server();
      return {
        env: { ...s3.env, DATABASE_URL: db.url },
        teardown: async () => {
          await s3.destroy();
          await db.drop();
        },
      };
    },
  ],
];

const ALICE = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa';
const BOB = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb';

for (const [name, setUp] of variants) {
  // Decided when the tests are defined: under CI=true testPostgresUrl() throws instead of skipping.
  const skipReason = name.includes('PostgreSQL')
    ? !testPostgresUrl() && 'TEST_POSTGRES_URL not set (run through tools/test/run.sh)'
    : name.includes('PGlite') && pgliteSuiteSkip();
  describe(`images API: ${name}`, { skip: skipReason }, () => {
    let issuer: TokenIssuer;
    let images: ImagesApp;
    let setup: Setup | undefined;
    let alice: string;
    let bob: string;

    before(async () => {
      issuer = await startTokenIssuer();
      setup = await setUp();
      if (!setup) return;
      images = await buildTestApp({ ...setup.env, AUTH_JWKS_URL: issuer.jwksUrl, LIST_MAX_LIMIT: '50' }, {}, { database: setup.database });
      alice = `Bearer ${await issuer.token(ALICE)}`;
      bob = `Bearer ${await issuer.token(BOB)}`;
    });
    after(async () => {
      await images?.close();
      await issuer.close();
      await setup?.teardown();
    });

    const uploadAs = async (authorization: string, data: Buffer, filename = 'p.jpg') => {
      const m = fileUpload(data, filename);
      const res = await images.app.inject({ method: 'POST', url: '/', payload: m.body, headers: { authorization, 'content-type': m.contentType } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; filename: string; createdAt: string };
    };
    const get = (url: string, authorization?: string, headers: Record<string, string> = {}) =>
      images.app.inject({ method: 'GET', url, headers: { ...(authorization ? { authorization } : {}), ...headers } });

    it('is ready with database and storage checked, and live', async () => {
      const ready = await images.management.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
      const report = ready.json() as { checks: Record<string, { ok: boolean }> };
      assert.deepEqual(Object.keys(report.checks).sort(), ['database', 'storage']);
      assert.equal((await images.management.inject({ method: 'GET', url: '/livez' })).statusCode, 200);
    });

    it('requires a valid access token and ignores identity headers', async () => {
      const cases: Array<[string, Record<string, string>]> = [
        ['no token', {}],
        ['identity header only', { 'x-user-id': ALICE }],
        ['garbage', { authorization: 'Bearer abc.def.ghi' }],
        ['expired', { authorization: `Bearer ${await issuer.token(ALICE, { expiresIn: '-1m' })}` }],
        ['wrong issuer', { authorization: `Bearer ${await issuer.token(ALICE, { issuer: 'someone-else' })}` }],
        ['subject is not a user id', { authorization: `Bearer ${await issuer.token('admin')}` }],
      ];
      for (const [label, headers] of cases) {
        const res = await images.app.inject({ method: 'GET', url: '/', headers });
        assert.equal(res.statusCode, 401, label);
        assert.equal((res.json() as ErrorResponse).error.code, 'IMAGES_UNAUTHORIZED', label);
        assert.match(String(res.headers['www-authenticate']), /^Bearer/, label);
      }
      const upload = fileUpload(await fixtures.validImage.jpeg(16, 16));
      const res = await images.app.inject({ method: 'POST', url: '/', payload: upload.body, headers: { 'content-type': upload.contentType } });
      assert.equal(res.statusCode, 401);
    });

    it('uploads, reads metadata, content and thumbnail with ETag, Cache-Control and 304', async () => {
      const created = await uploadAs(alice, await fixtures.validImage.png(300, 100), 'wide.png');
      const meta = await get(`/${created.id}`, alice);
      assert.equal(meta.statusCode, 200);
      assert.deepEqual(meta.json(), created);

      for (const path of ['content', 'thumbnail']) {
        const first = await get(`/${created.id}/${path}`, alice);
        assert.equal(first.statusCode, 200);
        const etag = String(first.headers.etag);
        assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
        assert.match(String(first.headers['cache-control']), /^private/);
        assert.equal(first.headers['x-content-type-options'], 'nosniff');
        assert.equal(Number(first.headers['content-length']), first.rawPayload.length);
        const again = await get(`/${created.id}/${path}`, alice, { 'if-none-match': etag });
        assert.equal(again.statusCode, 304);
        assert.equal(again.rawPayload.length, 0);
        assert.equal(again.headers.etag, etag);
        assert.equal((await get(`/${created.id}/${path}`, alice, { 'if-none-match': `"other", W/${etag}` })).statusCode, 304);
        assert.equal((await get(`/${created.id}/${path}`, alice, { 'if-none-match': '"stale"' })).statusCode, 200);
      }
      const content = await get(`/${created.id}/content`, alice);
      assert.equal(content.headers['content-type'], 'image/png');
      assert.equal(content.headers['content-disposition'], `inline; filename="wide.png"; filename*=UTF-8''wide.png`);
    });

    it("lists the caller's images newest first with a cursor, and bounds the limit", async () => {
      const user = `Bearer ${await issuer.token(randomUUID())}`;
      const jpeg = await fixtures.validImage.jpeg(16, 16);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await uploadAs(user, jpeg, `n${i}.jpg`)).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 5; page++) {
        const res = await get(`/?limit=2${cursor ? `&cursor=${cursor}` : ''}`, user);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { items: Array<{ id: string; createdAt: string }>; nextCursor: string | null };
        assert.ok(body.items.length <= 2);
        seen.push(...body.items.map((i) => i.id));
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      assert.deepEqual(seen, [...ids].reverse(), 'newest first, each exactly once');
      for (const bad of ['limit=0', 'limit=51', 'limit=abc', 'limit=-1', 'cursor=%25%25', `cursor=${Buffer.from('x|y').toString('base64url')}`]) {
        const res = await get(`/?${bad}`, user);
        assert.equal(res.statusCode, 400, bad);
        assert.equal((res.json() as ErrorResponse).error.code, 'IMAGES_INVALID_QUERY', bad);
      }
      const defaults = (await get('/', user)).json() as { items: unknown[] };
      assert.equal(defaults.items.length, 5);
    });

    it("isolates users: B cannot list, read, fetch or delete A's image (404, never 403)", async () => {
      const created = await uploadAs(alice, await fixtures.validImage.jpeg(32, 32));
      const list = (await get('/', bob)).json() as { items: Array<{ id: string }> };
      assert.ok(!list.items.some((i) => i.id === created.id));
      for (const path of [`/${created.id}`, `/${created.id}/content`, `/${created.id}/thumbnail`]) {
        const res = await get(path, bob);
        assert.equal(res.statusCode, 404, path);
        assert.equal((res.json() as ErrorResponse).error.code, 'IMAGES_NOT_FOUND');
      }
      const del = await images.app.inject({ method: 'DELETE', url: `/${created.id}`, headers: { authorization: bob } });
      assert.equal(del.statusCode, 404);
      assert.equal((await get(`/${created.id}/content`, alice)).statusCode, 200, 'still there for its owner');
      // Same answer as for an id that never existed.
      assert.equal((await get(`/${randomUUID()}`, bob)).statusCode, 404);
    });

    it('answers 400 IMAGES_INVALID_ID for malformed ids', async () => {
      for (const id of ['123', 'not-a-uuid', `${randomUUID()}x`, "1' or '1'='1", '%00']) {
        for (const path of [`/${id}`, `/${id}/content`, `/${id}/thumbnail`]) {
          const res = await get(path, alice);
          assert.equal(res.statusCode, 400, path);
          assert.equal((res.json() as ErrorResponse).error.code, 'IMAGES_INVALID_ID');
        }
        const del = await images.app.inject({ method: 'DELETE', url: `/${encodeURIComponent(id)}`, headers: { authorization: alice } });
        assert.equal(del.statusCode, 400);
      }
    });

    it('deletes the row and both objects (204), then 404', async () => {
      const created = await uploadAs(alice, await fixtures.validImage.webp(50, 50));
      const keysBefore = await allKeys(images);
      assert.ok(keysBefore.some((k) => k.includes(created.id)));
      const del = await images.app.inject({ method: 'DELETE', url: `/${created.id}`, headers: { authorization: alice } });
      assert.equal(del.statusCode, 204);
      assert.ok(!(await allKeys(images)).some((k) => k.includes(created.id)), 'both objects gone');
      assert.equal(await images.repository.findVisible(ALICE, created.id), undefined);
      assert.equal((await get(`/${created.id}`, alice)).statusCode, 404);
      assert.equal((await images.app.inject({ method: 'DELETE', url: `/${created.id}`, headers: { authorization: alice } })).statusCode, 404);
    });

    it('keeps verifying tokens from the cached JWKS while Auth is down', async () => {
      const token = `Bearer ${await issuer.token(ALICE)}`;
      await issuer.close();
      const res = await get('/', token);
      assert.equal(res.statusCode, 200);
    });

    it('exports the images metrics', async () => {
      const text = (await images.management.inject({ method: 'GET', url: '/metrics' })).body;
      for (const metric of [
        'images_uploads_total{result="success"}',
        'images_upload_bytes_bucket',
        'images_processing_duration_seconds_bucket{le="0.005",operation="thumbnail"}',
        'images_storage_operation_duration_seconds_bucket{le="0.005",operation="put",result="ok"}',
        'images_stored ',
      ]) {
        assert.ok(text.includes(metric), `missing ${metric}`);
      }
      const stored = Number(/^images_stored (\d+)/m.exec(text)?.[1]);
      assert.equal(stored, await images.repository.countVisible());
    });
  });
}

describe('images API: chaos drills wiring', () => {
  it('exposes the platform fault injection on the management port only when CHAOS_ENABLED=true', async () => {
    const issuer = await startTokenIssuer();
    const dir = tempDir('chaos');
    const token = 'chaos-token-for-tests-0123456789';
    const images = await buildTestApp({
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: dir.path,
      AUTH_JWKS_URL: issuer.jwksUrl,
      CHAOS_ENABLED: 'true',
      CHAOS_ADMIN_TOKEN: token,
    });
    const plain = await buildTestApp({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path, AUTH_JWKS_URL: issuer.jwksUrl });
    try {
      assert.equal((await images.management.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      const on = await images.management.inject({
        method: 'PUT',
        url: '/chaos/faults/readiness',
        payload: { durationMs: 60_000 },
        headers: { 'x-chaos-token': token },
      });
      assert.equal(on.statusCode, 200, on.body);
      assert.equal((await images.management.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      assert.equal(
        (await plain.management.inject({ method: 'PUT', url: '/chaos/faults/readiness', payload: { durationMs: 60_000 }, headers: { 'x-chaos-token': token } }))
          .statusCode,
        404,
      );
    } finally {
      await images.close();
      await plain.close();
      await issuer.close();
      dir.remove();
    }
  });
});
