import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs } from '@sre/testkit';
import { ConfigError, createHttpApp, createPlatform, parseConfig, pgliteConfigShape, trustProxyConfigShape, z, type TrustProxy } from '../src/index.js';

/** The shapes every service spreads into its schema: one meaning per variable (docs/configuration.md). */
const trustSchema = z.object({ ...trustProxyConfigShape });
const pgliteSchema = z.object({ ...pgliteConfigShape });
const trust = (value: string | undefined) => parseConfig('demo', trustSchema, { TRUST_PROXY: value }).TRUST_PROXY;

/** The client address a service built with this TRUST_PROXY sees for a request from `remoteAddress`. */
async function clientAddress(trustProxy: TrustProxy, remoteAddress: string, forwardedFor: string): Promise<string> {
  const config = { LOG_LEVEL: 'silent' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200, BODY_LIMIT_BYTES: 1024, REQUEST_TIMEOUT_MS: 5000 };
  const platform = createPlatform({ service: 'demo', config, logDestination: captureLogs().destination, collectProcessMetrics: false });
  const app = createHttpApp(platform, { config, trustProxy });
  app.get('/ip', async (request) => ({ ip: request.ip }));
  try {
    const response = await app.inject({ method: 'GET', url: '/ip', remoteAddress, headers: { 'x-forwarded-for': forwardedFor } });
    return (response.json() as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

describe('TRUST_PROXY (trustProxyConfigShape)', () => {
  it('means nobody when unset, empty or false', () => {
    assert.equal(trust(undefined), false);
    assert.equal(trust(' '), false);
    assert.equal(trust('false'), false);
  });

  it('takes a hop count or a comma list of addresses/CIDRs', () => {
    assert.equal(trust('2'), 2);
    assert.equal(trust('10.0.0.0/8, 127.0.0.2,::1'), '10.0.0.0/8,127.0.0.2,::1');
  });

  it('refuses "true" and malformed lists, naming the variable and not echoing the value', () => {
    assert.throws(
      () => trust('true'),
      (err: unknown) => err instanceof ConfigError && /TRUST_PROXY must not be "true"/.test(err.message),
    );
    for (const bad of ['127.0.0.1,not-an-ip', '10.0.0.0/33', 'fe80::/129', '10.0.0.0/8/1']) {
      assert.throws(
        () => trust(bad),
        (err: unknown) => err instanceof ConfigError && /TRUST_PROXY must be false, a hop count/.test(err.message) && !err.message.includes(bad),
        bad,
      );
    }
  });

  it('a hop count believes that many hops: Fastify alone would trust nobody for a number', async () => {
    // Auth behind the gateway behind an Ingress: the gateway forwards "client, ingress".
    assert.equal(await clientAddress(2, '10.0.0.5', '203.0.113.9, 10.0.0.4'), '203.0.113.9');
    assert.equal(await clientAddress(1, '10.0.0.5', '203.0.113.9, 10.0.0.4'), '10.0.0.4', 'one hop is the gateway only');
  });

  it('an address list believes only those peers, and nobody means the TCP peer', async () => {
    assert.equal(await clientAddress('127.0.0.3', '127.0.0.3', '203.0.113.9'), '203.0.113.9');
    assert.equal(await clientAddress('127.0.0.3', '127.0.0.1', '203.0.113.9'), '127.0.0.1', 'a client cannot pick its address');
    assert.equal(await clientAddress(false, '10.0.0.5', '203.0.113.9'), '10.0.0.5');
  });
});

describe('PGLITE_DATA_DIR (pgliteConfigShape)', () => {
  it('unset or empty means in memory; a folder is kept as given', () => {
    assert.equal(parseConfig('demo', pgliteSchema, {}).PGLITE_DATA_DIR, undefined);
    assert.equal(parseConfig('demo', pgliteSchema, { PGLITE_DATA_DIR: '' }).PGLITE_DATA_DIR, undefined);
    assert.equal(parseConfig('demo', pgliteSchema, { PGLITE_DATA_DIR: '.data/auth/pglite' }).PGLITE_DATA_DIR, '.data/auth/pglite');
  });

  it('refuses the old ":memory:" marker rather than making a folder of that name', () => {
    assert.throws(
      () => parseConfig('demo', pgliteSchema, { PGLITE_DATA_DIR: ':memory:' }),
      (err: unknown) => err instanceof ConfigError && /PGLITE_DATA_DIR must be a folder; leave it unset/.test(err.message),
    );
  });
});
