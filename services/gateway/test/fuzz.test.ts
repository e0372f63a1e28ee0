import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRequest, fuzzRequests, sendRaw, waitFor } from '@sre/testkit';
import { FakeUpstream, createSigner, json, readBody, startGateway, type TestGateway } from './helpers.js';

/**
 * Issue 15, item 2: no request a client can send makes the gateway itself answer 5xx (which would
 * feed the 5xx alerts). Upstreams are healthy fakes that answer 200, so any 5xx is the gateway's.
 */
describe('gateway answers hostile requests without a 5xx', () => {
  let signer: Awaited<ReturnType<typeof createSigner>>;
  let upstream: FakeUpstream;
  let gateway: TestGateway;
  let webRoot: string;
  let port: number;

  before(async () => {
    signer = await createSigner();
    upstream = new FakeUpstream(async (req, res) => {
      if (req.url === '/.well-known/jwks.json') return json(res, 200, signer.jwks);
      await readBody(req);
      json(res, 200, { ok: true });
    });
    await upstream.start();
    webRoot = mkdtempSync(join(tmpdir(), 'gw-fuzz-web-'));
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(webRoot, 'assets', 'app-abc123.js'), 'console.log(1)');
    gateway = await startGateway({ AUTH_URL: upstream.url, IMAGES_URL: upstream.url, WEB_ROOT: webRoot, RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'silent' });
    port = Number(new URL(gateway.url).port);
    await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
  });
  after(async () => {
    await gateway.close();
    await upstream.stop();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('answers GET / followed by a 256-character name with 4xx in the one shape, not 500 (the reported case)', async () => {
    const res = await sendRaw(port, { method: 'GET', url: `/${'n'.repeat(256)}`, headers: {} });
    assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.body}`);
    assert.match(res.body, /"requestId":"[^"]+"/);
    assert.match(res.head, /x-content-type-options: nosniff/i);
  });

  it('answers 400 fuzzed requests (fixed seed, raw bytes) over the web app and both API prefixes with 4xx at worst', async () => {
    const token = await signer.sign();
    let refused = 0;
    const requests = fuzzRequests({
      seed: 1503,
      count: 400,
      prefixes: ['', '/', '/assets', '/index.html', '/api', '/api/auth', '/api/auth/', '/api/images', '/api/images/'],
      extraHeaders: [{ authorization: `Bearer ${token}` }, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }],
      // Known gateway bugs, described below (fixes belong in services/gateway/src): `expect` is tested on
      // its own; `transfer-encoding: identity` on a proxied POST rejected before its body is read crashes
      // the process, which would take this whole file down.
      excludeHeaders: ['expect', 'transfer-encoding'],
    });
    for (const request of requests) {
      const res = await sendRaw(port, request).catch((err: Error) => assert.fail(`${err.message} for ${describeRequest(request)}`));
      assert.ok(res.status > 0 && res.status < 500, `${res.status} ${res.body.slice(0, 200)} for ${describeRequest(request)}`);
      // 4xx answers of our own carry the shape; the fake upstream's 200s and a static 304 do not need to.
      if (res.status >= 400 && request.method !== 'HEAD') {
        assert.match(res.body, /"requestId":"[^"]+"/, describeRequest(request));
        refused += 1;
      }
    }
    assert.ok(refused > 100, `only ${refused} refusals: the fuzz is too tame`);
  });

  // Known gateway bug, found by this fuzz (issue 15 item 2), fixable only in services/gateway/src: the
  // client's `Expect` header is forwarded to undici, which refuses it (NotSupportedError); the gateway
  // answers 503 GATEWAY_UPSTREAM_UNAVAILABLE and counts an upstream failure, so 5 such requests from
  // one signed-in user open the breaker for everyone (curl sends `Expect: 100-continue` on uploads
  // over 1 MB). Fix: drop `expect` (and the other hop-by-hop headers, RFC 9110 §7.6.1) in
  // forwardedHeaders.
  // Second bug (no test here: it kills the test process): `POST /api/images//x/%2e%2e` with a valid
  // token and `Transfer-Encoding: identity`, no body, then the client closes its socket → the handler
  // threw VALIDATION_FAILED before reply.from read the body, the request emits 'aborted', the
  // content-type parser's `payload.on('error', (err) => limiter.destroy(err))` forwards it to the
  // unconsumed ByteLimit, which has no 'error' listener → uncaught exception → the gateway exits.
  // Fix: give ByteLimit an error listener (or refuse a request with Transfer-Encoding other than
  // chunked with 400, RFC 9112 §6.1).
  it('answers a proxied request with Expect: 100-continue from upstream, without counting a failure', { todo: 'gateway src forwards Expect to undici (see comment)' }, async () => {
    const token = await signer.sign();
    const auth = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 6; i += 1) {
      const res = await sendRaw(port, { method: 'GET', url: '/api/images/x', headers: { ...auth, expect: '100-continue' } });
      assert.equal(res.status, 200, res.body);
    }
    assert.equal((await sendRaw(port, { method: 'GET', url: '/api/images/x', headers: auth })).status, 200, 'the breaker stayed closed');
  });
});
