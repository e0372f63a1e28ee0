import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startGateway, type ErrorBody, type TestGateway } from './helpers.js';

describe('gateway fault injection (drills)', () => {
  const token = randomBytes(24).toString('base64url');
  let gateway: TestGateway;
  before(async () => {
    gateway = await startGateway({ CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: token, AUTH_URL: 'http://127.0.0.1:1', IMAGES_URL: 'http://127.0.0.1:1' });
  });
  after(() => gateway.close());

  const setFault = (method: 'PUT' | 'DELETE', payload?: unknown) =>
    gateway.management.inject({ method, url: '/chaos/faults/errors', headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  it('answers every route with the injected fault, carrying the same security headers as any other answer', async () => {
    assert.equal((await setFault('PUT', { durationMs: 60_000, share: 1 })).statusCode, 200);
    try {
      for (const [method, url] of [
        ['GET', '/api/images'],
        ['POST', '/api/auth/login'],
        ['GET', '/'],
      ] as const) {
        const res = await fetch(`${gateway.url}${url}`, { method });
        assert.equal(res.status, 503, url);
        assert.equal(((await res.json()) as ErrorBody).error.code, 'CHAOS_INJECTED_FAULT', url);
        // Installed after the headers plugin (app.ts): a fault hook ahead of it answered without them.
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, url);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
      }
    } finally {
      assert.equal((await setFault('DELETE')).statusCode, 200);
    }
    const res = await fetch(`${gateway.url}/api/images`);
    await res.arrayBuffer();
    assert.equal(res.status, 401, 'cleared: the token check answers again');
  });
});
