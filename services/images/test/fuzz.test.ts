import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeRequest, fuzzRequests, sendRaw } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import { buildTestApp, startTokenIssuer, tempDir, type TokenIssuer } from './helpers.js';

describe('images answers hostile requests without a 5xx', () => {
  let images: ImagesApp;
  let issuer: TokenIssuer;
  let dir: ReturnType<typeof tempDir>;
  let port: number;
  let bearer: string;

  before(async () => {
    issuer = await startTokenIssuer();
    dir = tempDir('fuzz');
    images = await buildTestApp({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path, AUTH_JWKS_URL: issuer.jwksUrl });
    bearer = await issuer.token('7b0d3c4e-6a57-4f5b-9a7e-3c2d1e0f9a8b');
    await images.app.listen({ host: '127.0.0.1', port: 0 });
    port = (images.app.server.address() as { port: number }).port;
  });
  after(async () => {
    await images.close();
    await issuer.close();
    dir.remove();
  });

  it('answers 300 fuzzed requests (fixed seed, raw bytes) over its routes with 4xx at worst, each in the one error shape', async () => {
    let refused = 0;
    const id = '0b6f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4';
    const requests = fuzzRequests({
      seed: 1502,
      count: 300,
      prefixes: ['', `/${id}`, `/${id}/content`, `/${id}/thumbnail`, '/%20', '/api/images'],
      extraHeaders: [{ authorization: `Bearer ${bearer}` }, { authorization: `Bearer ${bearer}`, 'content-type': 'multipart/form-data; boundary=x' }],
    });
    for (const request of requests) {
      const res = await sendRaw(port, request);
      assert.ok(res.status > 0 && res.status < 500, `${res.status} ${res.body.slice(0, 200)} for ${describeRequest(request)}`);
      if (res.status >= 400 && request.method !== 'HEAD') {
        assert.match(res.body, /"requestId":"[^"]+"/, describeRequest(request));
        refused += 1;
      }
    }
    assert.ok(refused > 100, `only ${refused} refusals: the fuzz is too tame`);
  });
});
