import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import * as fixtures from './fixtures/generate.js';
import { buildTestApp, fileUpload, startTokenIssuer, tempDir, type ErrorResponse, type TokenIssuer } from './helpers.js';

const USER = 'dddddddd-4444-4444-8444-dddddddddddd';

describe('concurrent uploads', () => {
  let issuer: TokenIssuer;
  let images: ImagesApp;
  let dir: ReturnType<typeof tempDir>;
  let auth: string;
  let publicUrl: string;
  let managementUrl: string;

  before(async () => {
    issuer = await startTokenIssuer();
    dir = tempDir('concurrency');
    images = await buildTestApp({
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: dir.path,
      AUTH_JWKS_URL: issuer.jwksUrl,
      IMAGE_PROCESSING_CONCURRENCY: '2',
      UPLOAD_MAX_IN_FLIGHT: '3',
    });
    auth = `Bearer ${await issuer.token(USER)}`;
    await images.app.listen({ host: '127.0.0.1', port: 0 });
    await images.management.listen({ host: '127.0.0.1', port: 0 });
    publicUrl = `http://127.0.0.1:${(images.app.server.address() as AddressInfo).port}`;
    managementUrl = `http://127.0.0.1:${(images.management.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await images.close();
    await issuer.close();
    dir.remove();
  });

  const post = (body: { body: Buffer; contentType: string }) =>
    fetch(`${publicUrl}/`, { method: 'POST', body: new Uint8Array(body.body), headers: { authorization: auth, 'content-type': body.contentType } });

  it('processes many uploads with at most IMAGE_PROCESSING_CONCURRENCY sharp jobs while /livez keeps answering', async () => {
    const jpeg = fileUpload(await fixtures.validImage.jpeg(2400, 1800), 'large.jpg');
    const uploads: Array<Promise<number>> = [];
    let finished = 0;
    let livezDuringWork = 0;
    // Three waves of three (UPLOAD_MAX_IN_FLIGHT=3), over real HTTP.
    for (let wave = 0; wave < 3; wave++) {
      const batch = Array.from({ length: 3 }, () =>
        post(jpeg).then(async (res) => {
          await res.arrayBuffer();
          finished++;
          return res.status;
        }),
      );
      uploads.push(...batch);
      // Probe liveness while the batch is being processed; count answers received while image work was running.
      for (let i = 0; i < 200 && finished < uploads.length; i++) {
        const live = await fetch(`${managementUrl}/livez`);
        assert.equal(live.status, 200);
        if (images.work.active > 0) livezDuringWork++;
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(batch);
    }
    const statuses = await Promise.all(uploads);
    assert.deepEqual(statuses, Array(9).fill(201));
    assert.ok(images.work.highWater <= 2, `sharp jobs at once: ${images.work.highWater}`);
    assert.ok(images.work.highWater >= 1);
    assert.ok(livezDuringWork >= 1, '/livez answered while images were being processed');
    const list = (await (await fetch(`${publicUrl}/?limit=100`, { headers: { authorization: auth } })).json()) as { items: unknown[] };
    assert.equal(list.items.length, 9);
  });

  it('refuses uploads beyond UPLOAD_MAX_IN_FLIGHT with 503 IMAGES_BUSY and Retry-After, then accepts again', async () => {
    // Hold the only processing slots so admitted uploads stay in flight deterministically.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const holders = [images.work.run(() => gate), images.work.run(() => gate)];
    const small = fileUpload(await fixtures.validImage.png(64, 64));
    const admitted = [post(small), post(small), post(small)];
    await waitFor(() => images.work.queued === 3, { what: 'three uploads waiting for a processing slot' });
    const refused = await post(small);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as ErrorResponse).error.code, 'IMAGES_BUSY');
    assert.equal(refused.headers.get('retry-after'), '1');
    release();
    await Promise.all(holders);
    assert.deepEqual(await Promise.all(admitted.map(async (p) => (await p).status)), [201, 201, 201]);
    assert.equal((await post(small)).status, 201);
  });
});
