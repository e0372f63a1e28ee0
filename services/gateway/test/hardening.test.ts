import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@sre/platform';
import { waitFor } from '@sre/testkit';
import { configSchema } from '../src/config.js';
import { nonCanonicalPathReason } from '../src/paths.js';
import { FakeUpstream, createSigner, json, readBody, startGateway, type ErrorBody, type TestGateway } from './helpers.js';

interface RawResponse {
  status: number;
  body: string;
}

/** Sends the path byte for byte (fetch() would normalise dot segments and slashes first). */
function raw(
  base: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}/`,
      {
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('gateway path canonicalisation (issue 15, item 1)', () => {
  it('names what is wrong with a non-canonical path and accepts canonical ones', () => {
    for (const path of [
      '/api/auth//register',
      '/api/auth/./login',
      '/api/auth/x/../register',
      '/api/auth/%72egister',
      '/api/auth/%2Fregister',
      '/api/auth/%2e%2e/register',
      '/api/auth/register/',
      '/api/auth/register;x',
      '/api/auth\\register',
      '/api/images/%E0%A4%A',
      '//api/images',
    ]) {
      assert.ok(nonCanonicalPathReason(path), path);
    }
    for (const path of [
      '/',
      '/assets/app-abc.js',
      '/api/auth/register',
      '/api/images',
      '/api/images/5f0c6f55-8e1a-4d1a-9a55-0d4d2b1c1a11/thumbnail',
      '/api/images/a%20b',
      '/api/images/%C3%A9',
      '/api/images/',
      '/api/auth/',
    ]) {
      assert.equal(nonCanonicalPathReason(path), undefined, path);
    }
  });

  let auth: FakeUpstream;
  let gateway: TestGateway;
  let token: string;
  before(async () => {
    const signer = await createSigner();
    token = await signer.sign();
    auth = new FakeUpstream(async (req, res) => {
      if (req.url === '/.well-known/jwks.json') return json(res, 200, signer.jwks);
      await readBody(req);
      // Answers like a lenient upstream router would: anything that names register succeeds.
      return json(res, 201, { path: req.url });
    });
    await auth.start();
    gateway = await startGateway({ AUTH_URL: auth.url, IMAGES_URL: 'http://127.0.0.1:1', AUTH_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '1000' });
    await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
  });
  after(async () => {
    await gateway.close();
    await auth.stop();
  });

  it('the strict register limit cannot be bypassed with //, dot segments, escapes, a trailing slash or ;', async () => {
    const post = (path: string) =>
      raw(gateway.url, { method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    const canonical: number[] = [];
    for (let i = 0; i < 4; i++) canonical.push((await post('/api/auth/register')).status);
    assert.deepEqual(canonical, [201, 201, 201, 429]);

    const before = auth.requests.length;
    for (const path of [
      '/api/auth//register',
      '/api/auth//login',
      '/api/auth/./register',
      '/api/auth/me/../register',
      '/api/auth/%72egister',
      '/api/auth/%2Fregister',
      '/api/auth/register/',
      '/api/auth/register;',
      '/api/auth/%2e/register',
    ]) {
      const res = await post(path);
      // 400 when refused as non-canonical; 429 where our router already files it under the strict route.
      const code = (JSON.parse(res.body) as ErrorBody).error.code;
      assert.ok(
        (res.status === 400 && code === 'GATEWAY_NON_CANONICAL_PATH') || (res.status === 429 && code === 'GATEWAY_RATE_LIMITED'),
        `${path}: ${res.status} ${code}`,
      );
    }
    assert.equal(auth.requests.length, before, 'no non-canonical request reached Auth');
  });
});

describe('gateway trusts X-Forwarded-For only from configured proxies (issue 15, item 4)', () => {
  it('config: refuses TRUST_PROXY=true and malformed lists; parses hop counts and address lists', () => {
    assert.throws(
      () => parseConfig('gateway', configSchema, { TRUST_PROXY: 'true' }),
      (err: unknown) => err instanceof ConfigError && /TRUST_PROXY must not be "true"/.test(err.message),
    );
    assert.throws(() => parseConfig('gateway', configSchema, { TRUST_PROXY: '127.0.0.1,not-an-ip' }), /TRUST_PROXY must be false, a hop count/);
    assert.throws(() => parseConfig('gateway', configSchema, { TRUST_PROXY: '10.0.0.0/33' }), /TRUST_PROXY/);
    assert.equal(parseConfig('gateway', configSchema, {}).TRUST_PROXY, false);
    assert.equal(parseConfig('gateway', configSchema, { TRUST_PROXY: '1' }).TRUST_PROXY, 1);
    assert.equal(parseConfig('gateway', configSchema, { TRUST_PROXY: '10.0.0.0/8, 127.0.0.2' }).TRUST_PROXY, '10.0.0.0/8,127.0.0.2');
  });

  for (const trustProxy of [undefined, '127.0.0.2']) {
    it(`a spoofed X-Forwarded-For from an untrusted peer does not change the rate-limit key (TRUST_PROXY=${trustProxy ?? 'unset'})`, async () => {
      const auth = new FakeUpstream((_req, res) => json(res, 200, { keys: [] }));
      await auth.start();
      const gateway = await startGateway({
        AUTH_URL: auth.url,
        IMAGES_URL: 'http://127.0.0.1:1',
        RATE_LIMIT_MAX: '3',
        ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}),
      });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await raw(gateway.url, { path: '/api/auth/.well-known/jwks.json', headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } });
          statuses.push(res.status);
        }
        assert.deepEqual(statuses, [200, 200, 200, 429, 429], 'one bucket: the peer address, whatever the header says');
        // Proxied requests only: the gateway's own JWKS fetches (retried while the key set is empty) hit the same path.
        const proxied = auth.requests.filter((r) => r.headers['x-request-id'] !== undefined);
        assert.equal(proxied.length, 3);
        assert.equal(proxied.at(-1)!.headers['x-forwarded-for'], '127.0.0.1', 'Auth is told the peer address, not the spoofed one');
      } finally {
        await gateway.close();
        await auth.stop();
      }
    });
  }

  it("a configured proxy's X-Forwarded-For is believed: each client behind it has its own bucket", async () => {
    const auth = new FakeUpstream((_req, res) => json(res, 200, { keys: [] }));
    await auth.start();
    const gateway = await startGateway({ AUTH_URL: auth.url, IMAGES_URL: 'http://127.0.0.1:1', RATE_LIMIT_MAX: '3', TRUST_PROXY: '127.0.0.2' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        // Linux routes all of 127.0.0.0/8 to loopback, so a second local address stands in for the proxy.
        const res = await raw(gateway.url, {
          path: '/api/auth/.well-known/jwks.json',
          localAddress: '127.0.0.2',
          headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
      assert.equal(auth.requests.at(-1)!.headers['x-forwarded-for'], '203.0.113.5, 127.0.0.2');
    } finally {
      await gateway.close();
      await auth.stop();
    }
  });
});
