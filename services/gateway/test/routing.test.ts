/**
 * The gateway's routing, token check and headers, against real HTTP upstreams: public and protected
 * routes, 401 before proxying, request ids and forwarded headers, streamed uploads (413 over the limit)
 * and downloads, path traversal, security headers and HSTS, no CORS unless configured, upstream metrics.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startRoutingGateway, type ErrorBody, type FakeUpstream, type RoutingGateway, type TestGateway } from './helpers.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('gateway routing, tokens and headers', () => {
  let signer: RoutingGateway['signer'];
  let auth: FakeUpstream;
  let images: FakeUpstream;
  let gateway: TestGateway;
  let streamFinish: () => void;
  let close: () => Promise<void>;

  before(async () => {
    ({ signer, auth, images, gateway, finishStream: streamFinish, close } = await startRoutingGateway());
  });
  after(() => close());

  it('passes public auth routes without a token, rewriting /api/auth to the upstream root', async () => {
    const res = await fetch(`${gateway.url}/api/auth/login?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.c', password: 'secret-pass' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { path: string; body: string };
    assert.equal(body.path, '/login?x=1');
    assert.deepEqual(JSON.parse(body.body), { email: 'a@b.c', password: 'secret-pass' });
    const jwks = await fetch(`${gateway.url}/api/auth/.well-known/jwks.json`);
    assert.equal(jwks.status, 200);
  });

  it('answers 401 GATEWAY_UNAUTHORIZED before proxying when the token is missing, invalid or expired', async () => {
    const before = images.requests.length;
    const expired = await signer.sign({ exp: Math.floor(Date.now() / 1000) - 600 });
    const wrongAudience = await signer.sign({ aud: 'someone-else' });
    const valid = await signer.sign();
    const tampered = `${valid.slice(0, -4)}AAAA`;
    const noneAlg = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${valid.split('.')[1]}.`;
    for (const authorization of [
      undefined,
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Bearer ${expired}`,
      `Bearer ${wrongAudience}`,
      `Bearer ${tampered}`,
      `Bearer ${noneAlg}`,
      'Bearer a.b.c',
    ]) {
      const res = await fetch(`${gateway.url}/api/images/`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, `for ${authorization}`);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, 'GATEWAY_UNAUTHORIZED');
      assert.equal(body.error.requestId, res.headers.get('x-request-id'));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    // /api/auth/me is protected too, and unknown API paths are denied by default.
    assert.equal((await fetch(`${gateway.url}/api/auth/me`)).status, 401);
    assert.equal((await fetch(`${gateway.url}/api/auth/%6Dogin`, { method: 'POST' })).status, 401);
    assert.equal((await fetch(`${gateway.url}/api/other`)).status, 401);
    assert.equal(images.requests.length, before, 'nothing reached Images');
  });

  it("proxies protected routes with a valid token and forwards Authorization and request id, not the caller's trace headers", async () => {
    const token = await signer.sign();
    const res = await fetch(`${gateway.url}/api/images/abc/content`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-123',
        traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
        'content-type': 'application/octet-stream',
      },
      body: 'hello',
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { path: string; auth: string };
    assert.equal(body.path, '/abc/content');
    assert.equal(body.auth, `Bearer ${token}`);
    const seen = images.requests.at(-1)!;
    assert.equal(seen.headers['x-request-id'], 'req-123');
    // Tracing is off in this process: the SDK, when on, injects its own span's traceparent
    // (tools/launcher/test/tracing.test.ts); a forwarded copy of the caller's would sit beside it.
    assert.equal(seen.headers.traceparent, undefined);
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    assert.equal(res.headers.get('traceparent'), null);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('generates a request id when the client sent none', async () => {
    const res = await fetch(`${gateway.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200);
    const seen = auth.requests.at(-1)!;
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-request-id'), seen.headers['x-request-id']);
  });

  it('does not let a client spoof X-Forwarded-For unless it came through a trusted proxy', async () => {
    // TRUST_PROXY=127.0.0.1: our own loopback hop is trusted, so its X-Forwarded-For chain is kept.
    await fetch(`${gateway.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
      body: '{}',
    });
    assert.equal(auth.requests.at(-1)!.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  });

  it('streams uploads to the upstream and refuses bodies over the limit with 413', async () => {
    const token = await signer.sign();
    const big = Buffer.alloc(1024 * 1024 + 5, 7);
    const ok = await fetch(`${gateway.url}/api/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: big,
    });
    assert.equal(ok.status, 201);
    assert.equal(((await ok.json()) as { received: number }).received, big.length);

    const before = images.requests.length;
    const declared = await fetch(`${gateway.url}/api/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(3 * 1024 * 1024),
    });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as ErrorBody).error.code, 'GATEWAY_PAYLOAD_TOO_LARGE');
    assert.equal(images.requests.length, before, 'a declared oversize body never reaches Images');

    // Chunked (no Content-Length): cut off once the limit is passed.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/api/images`,
        { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += 64 * 1024;
          if (!req.write(Buffer.alloc(64 * 1024, 1))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch((err: Error) => ({ status: -1, body: err.message }));
    // Either the 413 arrives, or the gateway closed the connection on the oversize stream.
    if (chunked.status !== -1) {
      assert.equal(chunked.status, 413);
      assert.equal((JSON.parse(chunked.body) as ErrorBody).error.code, 'GATEWAY_PAYLOAD_TOO_LARGE');
    }
    const lastImagesRequest = images.requests.at(-1)!;
    assert.ok(lastImagesRequest.bodyBytes <= 2 * 1024 * 1024 + 64 * 1024, `Images received ${lastImagesRequest.bodyBytes} bytes`);
  });

  it('streams downloads: the first bytes reach the client before the upstream has finished', async () => {
    const token = await signer.sign();
    const firstChunk = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/api/images/stream`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve(chunk.length);
          let total = chunk.length;
          res.on('data', (c: Buffer) => (total += c.length));
          res.on('end', () => assert.equal(total, 2048));
          streamFinish();
        });
      });
      req.on('error', reject);
      req.end();
    });
    assert.ok(firstChunk > 0);
  });

  it('rejects path traversal and malformed escapes with 400, not 5xx', async () => {
    const token = await signer.sign();
    // Sent raw: fetch() would normalise dot segments before they reach the gateway.
    for (const path of ['/api/images/%2e%2e/admin', '/api/images/a/%2E%2E/b', '/api/images/..%2fauth/me', '/api/images/%E0%A4%A']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${gateway.url}/`, { path, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 400, path);
    }
  });

  it('sets security headers: CSP self only, nosniff, frame denial, no HSTS over plain HTTP, no CORS', async () => {
    const res = await fetch(`${gateway.url}/`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:|\*/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('strict-transport-security'), null);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const asset = await fetch(`${gateway.url}/assets/app-abc123.js`);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  it('answers no preflight and sends no CORS headers when CORS_ALLOWED_ORIGINS is unset', async () => {
    const preflight = await fetch(`${gateway.url}/api/images`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    await preflight.arrayBuffer();
    assert.equal(preflight.status, 401, 'an OPTIONS request is like any other: it needs a token');
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.equal(preflight.headers.get('access-control-allow-methods'), null);
    assert.equal(preflight.headers.get('vary'), null);
  });

  it('sends HSTS when the client came over TLS through a trusted proxy', async () => {
    const res = await fetch(`${gateway.url}/`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
  });

  it('exports upstream metrics and circuit state', async () => {
    const res = await gateway.management.inject({ url: '/metrics' });
    assert.match(res.body, /gateway_upstream_requests_total\{upstream="images",status_code="201"\} \d+/);
    assert.match(res.body, /gateway_upstream_duration_seconds_count\{upstream="auth"\} \d+/);
    assert.match(res.body, /gateway_circuit_state\{upstream="auth"\} 0/);
    assert.match(res.body, /http_requests_total\{service="gateway"/);
  });
});
