import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, testPostgresUrl, type TestDatabase } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import { reconcile } from '../src/reconcile.js';
import { objectKeys } from '../src/storage/index.js';
import * as fixtures from './fixtures/generate.js';
import { allKeys, buildTestApp, fileUpload, startS3Server, startTokenIssuer, tempDir, type TokenIssuer } from './helpers.js';

const variants: Array<[string, boolean]> = [
  ['local directory + PGlite', false],
  ['S3 (s3rver) + PostgreSQL', true],
];

for (const [name, real] of variants) {
  describe(`reconciliation: ${name}`, () => {
    const skip = real && !testPostgresUrl() ? 'TEST_POSTGRES_URL not set' : false;
    let issuer: TokenIssuer;
    let images: ImagesApp;
    const teardown: Array<() => Promise<void>> = [];

    before(async () => {
      if (skip) return;
      issuer = await startTokenIssuer();
      let env: Record<string, string>;
      if (real) {
        const db: TestDatabase = await createTestDatabase(testPostgresUrl()!, 'images');
        const s3 = await startS3Server();
        env = { ...s3.env, DATABASE_URL: db.url };
        teardown.push(
          () => s3.destroy(),
          () => db.drop(),
        );
      } else {
        const dir = tempDir('reconcile');
        env = { STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path };
        teardown.push(async () => dir.remove());
      }
      images = await buildTestApp({ ...env, AUTH_JWKS_URL: issuer.jwksUrl });
    });
    after(async () => {
      await images?.close();
      await issuer?.close();
      for (const t of teardown) await t();
    });

    it('removes orphan objects and dangling rows, finishes interrupted deletes, respects the grace period, keeps good images', { skip }, async () => {
      const owner = randomUUID();
      const auth = `Bearer ${await issuer.token(owner)}`;
      const m = fileUpload(await fixtures.validImage.jpeg(64, 48));
      const good = (
        await images.app.inject({ method: 'POST', url: '/', payload: m.body, headers: { authorization: auth, 'content-type': m.contentType } })
      ).json() as { id: string };

      // An upload that died after writing its objects (no row).
      const orphanId = randomUUID();
      await images.storage.put(objectKeys.original(owner, orphanId), Buffer.from('o'), 'image/jpeg');
      await images.storage.put(objectKeys.thumbnail(owner, orphanId), Buffer.from('t'), 'image/webp');
      // A row whose thumbnail vanished (e.g. removed by hand).
      const danglingId = randomUUID();
      const base = {
        owner_id: owner,
        filename: 'x.jpg',
        content_type: 'image/jpeg',
        width: 1,
        height: 1,
        size_bytes: 1,
        etag: '"e"',
        thumbnail_size_bytes: 1,
        thumbnail_etag: '"t"',
        created_at: new Date(Date.now() - 1000),
      };
      await images.storage.put(objectKeys.original(owner, danglingId), Buffer.from('d'), 'image/jpeg');
      await images.repository.insert({
        ...base,
        id: danglingId,
        original_key: objectKeys.original(owner, danglingId),
        thumbnail_key: objectKeys.thumbnail(owner, danglingId),
      });
      // A delete that stopped after hiding the row.
      const tombId = randomUUID();
      await images.storage.put(objectKeys.original(owner, tombId), Buffer.from('x'), 'image/jpeg');
      await images.repository.insert({
        ...base,
        id: tombId,
        original_key: objectKeys.original(owner, tombId),
        thumbnail_key: objectKeys.thumbnail(owner, tombId),
      });
      await images.repository.markDeleting(owner, tombId);
      // Something this service did not write.
      await images.storage.put('foreign/readme.txt', Buffer.from('keep me'), 'text/plain');

      // Dry run: reports, changes nothing.
      const dry = await reconcile({
        repository: images.repository,
        storage: images.storage,
        logger: images.platform.logger,
        graceMs: 0,
        dryRun: true,
        now: () => new Date(Date.now() + 1000),
      });
      assert.deepEqual(dry.danglingRowsRemoved, [danglingId]);
      assert.equal(dry.orphanObjectsRemoved.length, 2);
      const keysAfterDry = await allKeys(images);
      assert.ok(keysAfterDry.some((k) => k.includes(orphanId)));

      // With a grace period: young orphans and a fresh tombstone are left alone (an upload or delete may be in flight).
      const young = await images.reconcile({ graceMs: 60_000 });
      assert.deepEqual(young.orphanObjectsRemoved, []);
      assert.deepEqual(young.tombstonesFinished, []);
      assert.deepEqual(young.danglingRowsRemoved, [danglingId]);
      assert.ok((await allKeys(images)).some((k) => k.includes(orphanId)));

      const report = await reconcile({
        repository: images.repository,
        storage: images.storage,
        logger: images.platform.logger,
        graceMs: 60_000,
        now: () => new Date(Date.now() + 120_000),
      });
      assert.deepEqual(report.orphanObjectsRemoved.sort(), [objectKeys.original(owner, orphanId), objectKeys.thumbnail(owner, orphanId)].sort());
      assert.deepEqual(report.tombstonesFinished, [tombId]);
      assert.equal(report.foreignObjects, 0, 'only users/ is scanned');

      const keys = await allKeys(images);
      assert.deepEqual(keys.filter((k) => k.startsWith('users/')).sort(), [objectKeys.original(owner, good.id), objectKeys.thumbnail(owner, good.id)].sort());
      assert.ok(keys.includes('foreign/readme.txt'));
      assert.ok(await images.repository.findVisible(owner, good.id));
      assert.equal(await images.repository.markDeleting(owner, danglingId), undefined);
      assert.equal(await images.repository.markDeleting(owner, tombId), undefined);
      const content = await images.app.inject({ method: 'GET', url: `/${good.id}/content`, headers: { authorization: auth } });
      assert.equal(content.statusCode, 200);

      const again = await images.reconcile({ graceMs: 0 });
      assert.deepEqual([again.orphanObjectsRemoved, again.danglingRowsRemoved, again.tombstonesFinished], [[], [], []], 'idempotent');
    });
  });
}
