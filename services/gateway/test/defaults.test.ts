import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '@sre/platform';
import { captureLogs, sendRaw, waitFor } from '@sre/testkit';
import { buildApp, type Gateway } from '../src/app.js';
import { configSchema } from '../src/config.js';
import { FakeUpstream, createSigner, json, readBody } from './helpers.js';

/**
 * Issue 15, item 19: every other suite sets BREAKER_CONSECUTIVE_FAILURES, RATE_LIMIT_MAX and friends
 * itself, so raising a default (5 → a billion) went unnoticed while the manifests rely on it
 * (k8s/deployments/api-service.yaml sets only URLs, JWT names, TRUST_PROXY and shutdown timings).
 * Here the gateway is built from ONLY what the manifest sets, and the defaults are proved by behaviour.
 */
describe('gateway defaults the Kubernetes manifest relies on', () => {
  let signer: Awaited<ReturnType<typeof createSigner>>;
  let auth: FakeUpstream;
  let images: FakeUpstream;
  let gateway: Gateway;
  let port: number;

  before(async () => {
    signer = await createSigner();
    auth = new FakeUpstream(async (req, res) => {
      if (req.url === '/.well-known/jwks.json') return json(res, 200, signer.jwks);
      await readBody(req);
      json(res, 400, { error: { code: 'AUTH_EMAIL_INVALID', message: 'no', requestId: 'x' } });
    });
    // Every request to Images fails at the transport level: the connection is reset.
    images = new FakeUpstream((req) => {
      req.socket.destroy();
    });
    await auth.start();
    await images.start();
    // What api-service-config sets, with the Service names swapped for the fakes; nothing else.
    const config = parseConfig('gateway', configSchema, {
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '25000',
      AUTH_URL: auth.url,
      IMAGES_URL: images.url,
      JWT_ISSUER: 'sre-platform-auth',
      JWT_AUDIENCE: 'sre-platform',
      TRUST_PROXY: '1',
    });
    gateway = await buildApp(config, { logDestination: captureLogs().destination, collectProcessMetrics: false });
    port = Number(new URL(await gateway.app.listen({ host: '127.0.0.1', port: 0 })).port);
    await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
  });
  after(async () => {
    await gateway.close();
    await auth.stop();
    await images.stop();
  });

  it('has the documented defaults', () => {
    const config = parseConfig('gateway', configSchema, {});
    assert.equal(config.BREAKER_CONSECUTIVE_FAILURES, 5);
    assert.equal(config.BREAKER_HALF_OPEN_AFTER_MS, 5000);
    assert.equal(config.UPSTREAM_RETRIES, 2);
    assert.equal(config.RATE_LIMIT_MAX, 600);
    assert.equal(config.AUTH_RATE_LIMIT_MAX, 20);
    assert.equal(config.RATE_LIMIT_WINDOW_MS, 60_000);
  });

  it('opens the Images circuit after exactly 5 consecutive failures, then answers 503 without calling Images', async () => {
    const token = await signer.sign();
    // POST is not retried, so each request is one failure for the breaker.
    const upload = () =>
      sendRaw(port, { method: 'POST', url: '/api/images', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: '{}' });
    for (let i = 1; i <= 4; i += 1) {
      assert.equal((await upload()).status, 503);
      assert.equal(gateway.upstreams.images.state(), 0, `closed after ${i} failures`);
    }
    assert.equal((await upload()).status, 503);
    assert.equal(gateway.upstreams.images.state(), 1, 'open after the 5th failure');
    const reached = images.requests.length;
    assert.equal(reached, 5);
    const refused = await upload();
    assert.equal(refused.status, 503);
    assert.match(refused.body, /"code":"GATEWAY_UPSTREAM_UNAVAILABLE"/);
    assert.equal(images.requests.length, reached, 'an open circuit does not call Images');
  });

  it('lets 20 register attempts per client IP through, and answers the 21st with 429', async () => {
    // TRUST_PROXY=1: the client address is the last X-Forwarded-For hop, as ingress-nginx sets it.
    const register = () =>
      sendRaw(port, {
        method: 'POST',
        url: '/api/auth/register',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
        payload: '{}',
      });
    for (let i = 0; i < 20; i += 1) assert.equal((await register()).status, 400);
    const limited = await register();
    assert.equal(limited.status, 429);
    assert.match(limited.body, /"code":"GATEWAY_RATE_LIMITED"/);
  });
});
