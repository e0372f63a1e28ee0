/**
 * CORS with CORS_ALLOWED_ORIGINS set: an allowed origin's preflight is answered before the token check
 * and it may read the response; any other origin gets no CORS header and no preflight answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStubAuthGateway, type FakeUpstream, type TestGateway } from './helpers.js';

describe('gateway CORS', () => {
  let auth: FakeUpstream;
  let gateway: TestGateway;
  let close: () => Promise<void>;
  const allowed = 'https://app.example';
  before(async () => {
    ({ auth, gateway, close } = await startStubAuthGateway({ CORS_ALLOWED_ORIGINS: ` ${allowed} , https://admin.example,` }));
  });
  after(() => close());

  it('answers a preflight from an allowed origin with 204 and the allowed methods and headers, before the token check', async () => {
    const res = await fetch(`${gateway.url}/api/images/abc`, {
      method: 'OPTIONS',
      headers: { origin: allowed, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal(res.headers.get('access-control-allow-origin'), allowed);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type, x-request-id, traceparent, if-none-match');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'tokens travel in Authorization, never cookies');
    assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'security headers on preflight answers too');
    assert.equal(auth.requests.filter((r) => r.method === 'OPTIONS').length, 0, 'a preflight never reaches an upstream');
  });

  it('lets an allowed origin read the response and its request id, trace context and Retry-After', async () => {
    const res = await fetch(`${gateway.url}/api/auth/.well-known/jwks.json`, { headers: { origin: 'https://admin.example' } });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://admin.example');
    assert.equal(res.headers.get('access-control-expose-headers'), 'x-request-id, traceparent, retry-after');
    assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
  });

  it('gives any other origin no CORS header at all, and does not answer its preflight', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'null']) {
      const simple = await fetch(`${gateway.url}/api/auth/.well-known/jwks.json`, { headers: { origin } });
      await simple.arrayBuffer();
      assert.equal(simple.status, 200, origin);
      const preflight = await fetch(`${gateway.url}/api/images`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      await preflight.arrayBuffer();
      assert.equal(preflight.status, 401, `${origin}: not a preflight answer, an ordinary request that needs a token`);
      for (const res of [simple, preflight]) {
        const cors: string[] = [];
        res.headers.forEach((_value, name) => {
          if (name.startsWith('access-control-')) cors.push(name);
        });
        assert.deepEqual(cors, [], origin);
        // The answer depends on the Origin header, so caches must keep it apart (Fetch standard, CORS and HTTP caches).
        assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/, origin);
      }
    }
  });
});
