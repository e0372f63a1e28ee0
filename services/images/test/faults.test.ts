import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startEphemeralPostgres, waitFor, type EphemeralPostgres } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import { createStorage, type ObjectStorage } from '../src/storage/index.js';
import * as fixtures from './fixtures/generate.js';
import {
  allKeys,
  buildTestApp,
  fileUpload,
  startS3Server,
  startTokenIssuer,
  tempDir,
  testConfig,
  type ErrorResponse,
  type S3Server,
  type TokenIssuer,
} from './helpers.js';

const USER = 'cccccccc-3333-4333-8333-cccccccccccc';

describe('faults: object storage (s3rver) stops', () => {
  let issuer: TokenIssuer;
  let s3: S3Server;
  let images: ImagesApp;
  let auth: string;
  /** When set, the next put of an original stops the S3 server right after it succeeds. */
  let stopAfterOriginal = false;

  before(async () => {
    issuer = await startTokenIssuer();
    s3 = await startS3Server();
    const env = { ...s3.env, AUTH_JWKS_URL: issuer.jwksUrl };
    const real = await createStorage(testConfig(env));
    // The real driver against the real server; the wrapper only decides *when* the server stops.
    const storage: ObjectStorage = {
      ...real,
      kind: real.kind,
      location: real.location,
      ensureBucket: (c) => real.ensureBucket(c),
      check: (s) => real.check(s),
      get: (k) => real.get(k),
      exists: (k) => real.exists(k),
      delete: (k) => real.delete(k),
      list: (p) => real.list(p),
      close: () => real.close(),
      put: async (key, body, type) => {
        await real.put(key, body, type);
        if (stopAfterOriginal && key.endsWith('/original')) {
          stopAfterOriginal = false;
          await s3.stop();
        }
      },
    };
    images = await buildTestApp(env, { storage });
    auth = `Bearer ${await issuer.token(USER)}`;
  });
  after(async () => {
    await images.close();
    await s3.destroy();
    await issuer.close();
  });

  const upload = async () => {
    const m = fileUpload(await fixtures.validImage.jpeg(200, 150));
    return images.app.inject({ method: 'POST', url: '/', payload: m.body, headers: { authorization: auth, 'content-type': m.contentType } });
  };
  const ready = async () => (await images.management.inject({ method: 'GET', url: '/readyz' })).statusCode;

  it('answers 503 IMAGES_STORAGE_UNAVAILABLE when storage stops mid-upload, leaves no row and no orphan, and recovers without restart', async () => {
    assert.equal((await upload()).statusCode, 201);
    const keysBefore = await allKeys(images);
    const rowsBefore = await images.repository.countVisible();

    stopAfterOriginal = true; // the original is written, then storage goes away before the thumbnail
    const failed = await upload();
    assert.equal(failed.statusCode, 503, failed.body);
    assert.equal((failed.json() as ErrorResponse).error.code, 'IMAGES_STORAGE_UNAVAILABLE');
    assert.ok(failed.headers['retry-after']);
    assert.equal(await images.repository.countVisible(), rowsBefore, 'no row');
    assert.equal(await ready(), 503, 'readiness reports storage');
    assert.equal((await images.management.inject({ method: 'GET', url: '/livez' })).statusCode, 200);
    assert.equal((await upload()).statusCode, 503, 'still down');
    assert.ok(images.cleanup.size >= 1, 'the orphaned original is queued for deletion');

    await s3.start();
    await waitFor(async () => images.cleanup.size === 0, { what: 'background cleanup of the orphan' });
    assert.deepEqual(await allKeys(images), keysBefore, 'no orphan objects');
    assert.equal(await ready(), 200);
    const ok = await upload();
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('never leaves a visible row pointing at missing objects when storage fails during a delete', async () => {
    const created = (await upload()).json() as { id: string };
    await s3.stop();
    const del = await images.app.inject({ method: 'DELETE', url: `/${created.id}`, headers: { authorization: auth } });
    assert.equal(del.statusCode, 503);
    assert.equal((del.json() as ErrorResponse).error.code, 'IMAGES_STORAGE_UNAVAILABLE');
    // Hidden at once, so nobody is served a half-deleted image.
    assert.equal((await images.app.inject({ method: 'GET', url: `/${created.id}`, headers: { authorization: auth } })).statusCode, 404);
    await s3.start();
    assert.ok(
      (await allKeys(images)).some((k) => k.includes(created.id)),
      'objects still there until the retry',
    );
    const retry = await images.app.inject({ method: 'DELETE', url: `/${created.id}`, headers: { authorization: auth } });
    assert.equal(retry.statusCode, 204, 'a retried DELETE finishes the job');
    assert.ok(!(await allKeys(images)).some((k) => k.includes(created.id)));
  });
});

describe('faults: PostgreSQL stops', () => {
  let issuer: TokenIssuer;
  let pg: EphemeralPostgres;
  let images: ImagesApp;
  let dir: ReturnType<typeof tempDir>;
  let auth: string;

  before(async () => {
    issuer = await startTokenIssuer();
    pg = await startEphemeralPostgres();
    dir = tempDir('faults-db');
    images = await buildTestApp({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path, DATABASE_URL: pg.url, AUTH_JWKS_URL: issuer.jwksUrl });
    auth = `Bearer ${await issuer.token(randomUUID())}`;
  });
  after(async () => {
    await images.close();
    await pg.destroy();
    await issuer.close();
    dir.remove();
  });

  const upload = async () => {
    const m = fileUpload(await fixtures.validImage.png(64, 64));
    return images.app.inject({ method: 'POST', url: '/', payload: m.body, headers: { authorization: auth, 'content-type': m.contentType } });
  };

  it('answers 503 IMAGES_DB_UNAVAILABLE, fails readiness (not liveness), cleans up objects, and recovers without restart', async () => {
    assert.equal((await upload()).statusCode, 201);
    const keysBefore = await allKeys(images);
    await pg.stop();

    const failed = await upload();
    assert.equal(failed.statusCode, 503, failed.body);
    assert.equal((failed.json() as ErrorResponse).error.code, 'IMAGES_DB_UNAVAILABLE');
    assert.deepEqual(await allKeys(images), keysBefore, 'objects of the failed upload deleted');
    const list = await images.app.inject({ method: 'GET', url: '/', headers: { authorization: auth } });
    assert.equal(list.statusCode, 503);
    assert.equal((list.json() as ErrorResponse).error.code, 'IMAGES_DB_UNAVAILABLE');
    const readyz = await images.management.inject({ method: 'GET', url: '/readyz' });
    assert.equal(readyz.statusCode, 503);
    assert.equal((readyz.json() as { checks: { database: { ok: boolean } } }).checks.database.ok, false);
    assert.equal((await images.management.inject({ method: 'GET', url: '/livez' })).statusCode, 200);

    await pg.start();
    await waitFor(async () => (await images.management.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, {
      timeoutMs: 30_000,
      what: 'readiness after PostgreSQL restart',
    });
    assert.equal((await upload()).statusCode, 201);
    const after = (await images.app.inject({ method: 'GET', url: '/', headers: { authorization: auth } })).json() as { items: unknown[] };
    assert.equal(after.items.length, 2);
  });
});
