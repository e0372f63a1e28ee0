import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '@sre/testkit';
import { FakeUpstream, createSigner, json, readBody, startGateway, type ErrorBody, type TestGateway } from './helpers.js';

async function metric(gateway: TestGateway, pattern: RegExp): Promise<number | undefined> {
  const body = (await gateway.management.inject({ url: '/metrics' })).body;
  const match = pattern.exec(body);
  return match ? Number(match[1]) : undefined;
}

describe('gateway resilience: timeouts, retries, circuit breakers, upstream outages', () => {
  let signer: Awaited<ReturnType<typeof createSigner>>;
  let auth: FakeUpstream;
  let images: FakeUpstream;
  let authPort: number;
  let imagesPort: number;
  let gateway: TestGateway;
  let token: string;
  /** Per-path behaviour of the fake Images upstream. */
  let resetNext = 0;

  before(async () => {
    signer = await createSigner();
    auth = new FakeUpstream(async (req, res) => {
      if (req.url === '/.well-known/jwks.json') return json(res, 200, signer.jwks);
      await readBody(req);
      json(res, 200, { ok: true });
    });
    images = new FakeUpstream(async (req, res) => {
      if (req.url === '/slow') return; // never answers
      if (req.url?.startsWith('/flaky') && resetNext > 0) {
        resetNext--;
        req.socket.destroy(); // connection reset before any response
        return;
      }
      await readBody(req);
      json(res, 200, { path: req.url });
    });
    authPort = await freePort();
    imagesPort = await freePort();
    // Start the gateway before Auth exists: it runs, but is not ready until it has the keys.
    gateway = await startGateway({
      AUTH_URL: `http://127.0.0.1:${authPort}`,
      IMAGES_URL: `http://127.0.0.1:${imagesPort}`,
      IMAGES_TIMEOUT_MS: '300',
      BREAKER_CONSECUTIVE_FAILURES: '3',
      BREAKER_HALF_OPEN_AFTER_MS: '500',
      UPSTREAM_RETRIES: '2',
      UPSTREAM_RETRY_INITIAL_DELAY_MS: '10',
    });
  });

  after(async () => {
    await gateway.close();
    await auth.stop();
    await images.stop();
  });

  it('is not ready until the signing keys are loaded, then ready', async () => {
    const notReady = await gateway.management.inject({ url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.equal((notReady.json() as { checks: Record<string, { ok: boolean }> }).checks['signing-keys']?.ok, false);
    const res = await fetch(`${gateway.url}/api/images`, { headers: { authorization: `Bearer ${await signer.sign()}` } });
    assert.equal(res.status, 503, 'no keys yet: the token cannot be checked');
    assert.equal(((await res.json()) as ErrorBody).error.code, 'GATEWAY_UPSTREAM_UNAVAILABLE');

    await auth.start(authPort);
    await images.start(imagesPort);
    await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready', timeoutMs: 10_000 });
    token = await signer.sign();
  });

  it('answers 504 GATEWAY_UPSTREAM_TIMEOUT when an upstream does not answer in time', async () => {
    const res = await fetch(`${gateway.url}/api/images/slow`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'GATEWAY_UPSTREAM_TIMEOUT');
    assert.equal(images.requests.filter((r) => r.url === '/slow').length, 1, 'a timeout is not retried');
  });

  it('retries an idempotent request after a connection reset, never a POST', async () => {
    resetNext = 1;
    const get = await fetch(`${gateway.url}/api/images/flaky-get`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(get.status, 200);
    assert.equal(images.requests.filter((r) => r.url === '/flaky-get').length, 2);

    resetNext = 1;
    const post = await fetch(`${gateway.url}/api/images/flaky-post`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: 'x',
    });
    assert.equal(post.status, 503);
    assert.equal(((await post.json()) as ErrorBody).error.code, 'GATEWAY_UPSTREAM_UNAVAILABLE');
    assert.equal(images.requests.filter((r) => r.url === '/flaky-post').length, 1);
  });

  it('Auth down: existing and new tokens still verify from cached keys; auth routes 503 quickly', async () => {
    const newToken = await signer.sign();
    await auth.stop();
    const images1 = await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(images1.status, 200);
    const images2 = await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${newToken}` } });
    assert.equal(images2.status, 200, 'a token never seen before verifies with the cached keys');
    const login = await fetch(`${gateway.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(login.status, 503);
    assert.equal(((await login.json()) as ErrorBody).error.code, 'GATEWAY_UPSTREAM_UNAVAILABLE');
    assert.equal((await gateway.management.inject({ url: '/readyz' })).statusCode, 200, 'readiness does not follow upstream health');
    await auth.start(authPort);
  });

  it('Images down: the circuit opens and answers 503 without trying; auth keeps working; recovery without restart', async () => {
    await images.stop();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 503);
      seen.push(((await res.json()) as ErrorBody).error.code);
      assert.ok(res.headers.get('retry-after'));
    }
    assert.deepEqual(new Set(seen), new Set(['GATEWAY_UPSTREAM_UNAVAILABLE']));
    assert.equal(await metric(gateway, /gateway_circuit_state\{upstream="images"\} (\d)/), 1, 'circuit open');
    assert.equal(await metric(gateway, /gateway_circuit_state\{upstream="auth"\} (\d)/), 0);
    const errorsBefore = await metric(gateway, /gateway_upstream_requests_total\{upstream="images",status_code="error"\} (\d+)/);
    const shortCircuited = await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(shortCircuited.status, 503);
    assert.equal(
      await metric(gateway, /gateway_upstream_requests_total\{upstream="images",status_code="error"\} (\d+)/),
      errorsBefore,
      'open circuit: no attempt made',
    );

    const login = await fetch(`${gateway.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(login.status, 200, 'auth routes unaffected');

    await images.start(imagesPort);
    await waitFor(async () => (await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${token}` } })).status === 200, {
      what: 'images route recovers',
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    assert.equal(await metric(gateway, /gateway_circuit_state\{upstream="images"\} (\d)/), 0, 'circuit closed again');
  });
});

describe('gateway key rotation', () => {
  it('accepts a token signed with a key Auth published after start (refetch on unknown kid), and rejects a kid Auth never published', async () => {
    const current = await createSigner();
    const next = await createSigner();
    const rogue = await createSigner();
    let published = current.jwks;
    let jwksFetches = 0;
    const auth = new FakeUpstream((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        jwksFetches++;
        return json(res, 200, published);
      }
      json(res, 200, { ok: true });
    });
    const images = new FakeUpstream((_req, res) => json(res, 200, { ok: true }));
    await auth.start();
    await images.start();
    const gateway = await startGateway({ AUTH_URL: auth.url, IMAGES_URL: images.url, JWKS_UNKNOWN_KID_COOLDOWN_MS: '0' });
    try {
      await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
      const get = async (token: string) => (await fetch(`${gateway.url}/api/images/`, { headers: { authorization: `Bearer ${token}` } })).status;
      assert.equal(await get(await current.sign()), 200);
      // Auth rotates: the JWKS now lists the next key and the current one (still valid tokens).
      published = { keys: [...next.jwks.keys, ...current.jwks.keys] };
      const before = jwksFetches;
      assert.equal(await get(await next.sign()), 200);
      assert.equal(jwksFetches, before + 1, 'one refetch for the unknown kid');
      assert.equal(await get(await current.sign()), 200, 'the previous key still verifies');
      assert.equal(await get(await rogue.sign()), 401, 'a kid Auth never published is refused');
    } finally {
      await gateway.close();
      await auth.stop();
      await images.stop();
    }
  });
});
