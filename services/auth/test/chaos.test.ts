import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHAOS_TOKEN_HEADER } from '@sre/platform';
import { startTestAuth } from './helpers.js';

describe('auth wires platform fault injection (drills)', () => {
  it('is off by default: no /chaos routes answer', async () => {
    const auth = await startTestAuth();
    try {
      const res = await auth.management.inject({ method: 'PUT', url: '/chaos/faults/readiness', payload: { durationMs: 60_000 } });
      assert.notEqual(res.statusCode, 200);
      assert.equal((await auth.management.inject({ url: '/readyz' })).statusCode, 200);
    } finally {
      await auth.close();
    }
  });

  it('when enabled, a readiness fault with the admin token fails /readyz until cleared', async () => {
    const token = 'a-test-chaos-token-0123';
    const auth = await startTestAuth({ CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: token });
    try {
      assert.equal((await auth.management.inject({ url: '/readyz' })).statusCode, 200);
      const denied = await auth.management.inject({ method: 'PUT', url: '/chaos/faults/readiness', payload: { durationMs: 60_000 } });
      assert.equal(denied.statusCode, 401);
      const on = await auth.management.inject({
        method: 'PUT',
        url: '/chaos/faults/readiness',
        headers: { [CHAOS_TOKEN_HEADER]: token },
        payload: { durationMs: 60_000 },
      });
      assert.equal(on.statusCode, 200, on.body);
      assert.equal((await auth.management.inject({ url: '/readyz' })).statusCode, 503);
      await auth.management.inject({ method: 'DELETE', url: '/chaos/faults/readiness', headers: { [CHAOS_TOKEN_HEADER]: token } });
      assert.equal((await auth.management.inject({ url: '/readyz' })).statusCode, 200);
    } finally {
      await auth.close();
    }
  });
});
