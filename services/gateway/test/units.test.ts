import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@sre/platform';
import { configSchema } from '../src/config.js';
import { TokenCache } from '../src/token-cache.js';
import { classifyTransportError } from '../src/upstream.js';

const claims = (exp: number) => ({ sub: 'u', jti: 'j', iat: 0, exp });

describe('gateway units', () => {
  it('token cache: returns a verified token until it expires, then forgets it', () => {
    let now = 1_000_000;
    const cache = new TokenCache(10, () => now);
    cache.set('a', claims(1000 + 60));
    assert.equal(cache.get('a')?.sub, 'u');
    now = (1000 + 60) * 1000;
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('token cache: bounded, the oldest entry goes first', () => {
    const cache = new TokenCache(3, () => 0);
    for (const t of ['a', 'b', 'c', 'd']) cache.set(t, claims(100));
    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined);
    assert.ok(cache.get('d'));
    const off = new TokenCache(0, () => 0);
    off.set('a', claims(100));
    assert.equal(off.get('a'), undefined);
  });

  it('classifies transport errors through their cause chain', () => {
    const refused = Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    assert.equal(classifyTransportError(refused).kind, 'unavailable');
    const timeout = Object.assign(new Error('x'), {
      code: 'FST_REPLY_FROM_GATEWAY_TIMEOUT',
      cause: Object.assign(new Error('h'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
    });
    assert.equal(classifyTransportError(timeout).kind, 'timeout');
  });

  it('config: every invalid variable is named at once, values never echoed', () => {
    assert.throws(
      () => parseConfig('gateway', configSchema, { AUTH_URL: 'ftp://secret-host', RATE_LIMIT_MAX: 'many', UPSTREAM_RETRIES: '99' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /AUTH_URL/);
        assert.match(err.message, /RATE_LIMIT_MAX/);
        assert.match(err.message, /UPSTREAM_RETRIES/);
        assert.doesNotMatch(err.message, /secret-host/);
        return true;
      },
    );
    const defaults = parseConfig('gateway', configSchema, {});
    assert.equal(defaults.PORT, 8080);
    assert.equal(defaults.AUTH_URL, 'http://127.0.0.1:8081');
    assert.equal(defaults.CORS_ALLOWED_ORIGINS, undefined);
  });
});
