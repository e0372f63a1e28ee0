/**
 * Rate limits: login's stricter limit answers 429 GATEWAY_RATE_LIMITED with Retry-After, the global
 * limit applies too; CORS stays as configured on the same gateway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startStubAuthGateway, type ErrorBody } from './helpers.js';

describe('gateway rate limits and CORS', () => {
  it('answers 429 GATEWAY_RATE_LIMITED with Retry-After, stricter on login', async () => {
    const { gateway, close } = await startStubAuthGateway({ RATE_LIMIT_MAX: '8', AUTH_RATE_LIMIT_MAX: '3', CORS_ALLOWED_ORIGINS: 'https://app.example' });
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${gateway.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
        else await res.arrayBuffer();
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.ok(limited);
      assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal(((await limited.json()) as ErrorBody).error.code, 'GATEWAY_RATE_LIMITED');

      // CORS when configured: allowed origin gets headers and a preflight answer; others do not.
      const preflight = await fetch(`${gateway.url}/api/images`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
      const other = await fetch(`${gateway.url}/api/auth/.well-known/jwks.json`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);

      let globalLimited = false;
      for (let i = 0; i < 10 && !globalLimited; i++) {
        const res = await fetch(`${gateway.url}/api/auth/.well-known/jwks.json`);
        await res.arrayBuffer();
        globalLimited = res.status === 429;
      }
      assert.ok(globalLimited, 'the global limit applies too');
    } finally {
      await close();
    }
  });
});
