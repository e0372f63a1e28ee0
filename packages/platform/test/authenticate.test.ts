import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticate, defineErrorCatalogue, TokenVerificationError, type AccessTokenVerifier, type AppError, type TokenFailure } from '../src/index.js';

const codes = defineErrorCatalogue({
  DEMO_UNAUTHORIZED: { status: 401, message: 'A valid access token is required.' },
  DEMO_EXPIRED: { status: 401, message: 'Expired; refresh.' },
  DEMO_KEYS: { status: 503, message: 'No keys yet.' },
});
const errors = { unauthorized: codes.DEMO_UNAUTHORIZED, expired: codes.DEMO_EXPIRED, keysUnavailable: codes.DEMO_KEYS };
const JWT = 'aaa.bbb.ccc';

/** A verifier that fails with the given reason, or accepts with the given subject. */
function verifier(outcome: TokenFailure | { sub: string }): AccessTokenVerifier {
  return {
    loaded: () => true,
    close: () => undefined,
    verify: async () => {
      if (typeof outcome === 'string') throw new TokenVerificationError(outcome, outcome);
      return { sub: outcome.sub, jti: 'j', iat: 0, exp: 0 };
    },
  };
}

async function run(outcome: TokenFailure | { sub: string }, authorization: string | undefined, acceptSubject?: (sub: string) => boolean) {
  const request = { headers: authorization === undefined ? {} : { authorization } } as never as Parameters<ReturnType<typeof authenticate>>[0];
  try {
    await authenticate({ verifier: verifier(outcome), errors, ...(acceptSubject ? { acceptSubject } : {}) })(request, {} as never);
    return { claims: request.accessToken };
  } catch (err) {
    return { error: err as AppError };
  }
}

describe('authenticate (one token check for every service)', () => {
  it('lets a valid token through and sets request.accessToken', async () => {
    const { claims, error } = await run({ sub: 'u1' }, `Bearer ${JWT}`);
    assert.equal(error, undefined);
    assert.equal(claims?.sub, 'u1');
  });

  it('answers no token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    for (const header of [undefined, '', '   ']) {
      const { error } = await run({ sub: 'u1' }, header);
      assert.equal(error?.statusCode, 401);
      assert.equal(error?.headers['www-authenticate'], 'Bearer');
    }
  });

  it("answers a bad, malformed or expired token with invalid_token, and the service's own codes", async () => {
    const cases: Array<[TokenFailure | { sub: string }, string, string]> = [
      ['invalid', `Bearer ${JWT}`, 'DEMO_UNAUTHORIZED'],
      [{ sub: 'u1' }, 'Basic dXNlcjpwYXNz', 'DEMO_UNAUTHORIZED'],
      ['expired', `Bearer ${JWT}`, 'DEMO_EXPIRED'],
    ];
    for (const [outcome, header, code] of cases) {
      const { error } = await run(outcome, header);
      assert.equal(error?.code, code, header);
      assert.match(String(error?.headers['www-authenticate']), /^Bearer error="invalid_token", error_description="[^"]+"$/);
    }
  });

  it('refuses a valid token whose subject the service does not accept', async () => {
    const { error } = await run({ sub: 'admin' }, `Bearer ${JWT}`, (sub) => sub.startsWith('u'));
    assert.equal(error?.code, 'DEMO_UNAUTHORIZED');
  });

  it('answers 503 with Retry-After while no signing keys are loaded', async () => {
    const { error } = await run('keys_unavailable', `Bearer ${JWT}`);
    assert.equal(error?.statusCode, 503);
    assert.equal(error?.headers['retry-after'], '1');
    assert.equal(error?.headers['www-authenticate'], undefined);
  });
});
