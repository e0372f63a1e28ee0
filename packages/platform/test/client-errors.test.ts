import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs, describeRequest, fuzzRequests, sendRaw } from '@sre/testkit';
import { FRAMEWORK_ERROR_HEADERS, createHttpApp, createPlatform } from '../src/index.js';

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200, BODY_LIMIT_BYTES: 1024, REQUEST_TIMEOUT_MS: 5000 };

/** An error as a plugin throws it: a code of its own and an HTTP status, no catalogue entry. */
function pluginError(code: string, statusCode: number): Error {
  return Object.assign(new Error(`${code} from a plugin`), { code, statusCode });
}

function build() {
  const { lines, destination } = captureLogs();
  const platform = createPlatform({ service: 'demo', config, logDestination: destination, collectProcessMetrics: false });
  const app = createHttpApp(platform, { config });
  app.get('/items/:id', async () => ({ ok: true }));
  app.post('/echo', async (req) => req.body ?? {});
  app.get('/static-forbidden', async () => {
    throw pluginError('FST_STATIC_FORBIDDEN_PATH', 403);
  });
  app.get('/range', async () => {
    throw pluginError('SEND_RANGE', 416);
  });
  app.get('/teapot', async () => {
    throw pluginError('SOMETHING_418', 418);
  });
  app.get('/crash', async () => {
    throw new Error('a real bug');
  });
  return { platform, app, lines };
}

type Body = { error: { code: string; message: string; requestId: string } };

describe('client errors never become 500', () => {
  it('maps a plugin error carrying a 4xx status (FST_STATIC_FORBIDDEN_PATH 403, 416, 418) to a catalogued 4xx', async () => {
    const { app } = build();
    for (const [url, status, code] of [
      ['/static-forbidden', 403, 'FORBIDDEN'],
      ['/range', 416, 'RANGE_NOT_SATISFIABLE'],
      ['/teapot', 400, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, status, url);
      const body = res.json() as Body;
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, res.headers['x-request-id']);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/crash' })).statusCode, 500, 'a real bug is still a 500');
  });

  it("answers the router's bad-URL 400 and overlong-segment 414 in the one shape, with request id, security headers and a metric", async () => {
    const { app, platform } = build();
    for (const [url, status, code] of [
      ['/items/%E0%A4%A', 400, 'BAD_URL'],
      [`/items/${'a'.repeat(300)}`, 414, 'URI_TOO_LONG'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers: { 'x-request-id': `req-${status}` } });
      assert.equal(res.statusCode, status, url);
      const body = res.json() as Body;
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, `req-${status}`);
      assert.equal(res.headers['x-request-id'], `req-${status}`);
      for (const [name, value] of Object.entries(FRAMEWORK_ERROR_HEADERS)) assert.equal(res.headers[name], value, name);
    }
    const text = await platform.metrics.registry.metrics();
    assert.match(text, /http_requests_total\{service="demo",method="GET",route="unmatched",status_code="400"\} 1/);
    assert.match(text, /http_requests_total\{service="demo",method="GET",route="unmatched",status_code="414"\} 1/);
  });

  it("answers Node's parser refusals (400, 431) and an unsupported Expect (417) in the one shape with a request id", async () => {
    const { app } = build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      const cases = [
        [{ method: 'GET', url: '/items/\u{1F600}', headers: {} }, 400, 'MALFORMED_REQUEST'],
        [{ method: 'GET', url: '/items/1', headers: { 'x-big': 'a'.repeat(20_000) } }, 431, 'HEADERS_TOO_LARGE'],
        [{ method: 'PUT', url: '/echo', headers: { expect: 'nonsense', 'x-request-id': 'exp-1' }, payload: '{}' }, 417, 'EXPECTATION_FAILED'],
      ] as const;
      for (const [request, status, code] of cases) {
        const res = await sendRaw(port, request);
        assert.equal(res.status, status, describeRequest(request));
        assert.match(res.body, new RegExp(`"code":"${code}"`));
        const requestId = /x-request-id: (\S+)/i.exec(res.head)?.[1];
        assert.ok(requestId && res.body.includes(`"requestId":"${requestId}"`), res.head);
        assert.match(res.head, /x-content-type-options: nosniff/i);
      }
    } finally {
      await app.close();
    }
  });

  it('answers no 5xx to 400 fuzzed requests (fixed seed, raw bytes on a real port) over paths, methods, headers and bodies', async () => {
    const { app } = build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      let answered = 0;
      for (const request of fuzzRequests({ seed: 152, count: 400, prefixes: ['', '/items', '/echo', '/static-forbidden'] })) {
        const res = await sendRaw(port, request);
        assert.ok(res.status > 0 && res.status < 500, `${res.status} ${res.body.slice(0, 200)} for ${describeRequest(request)}`);
        // Every refusal has the shape, including those of Node's parser (answerClientError).
        if (res.status >= 400 && request.method !== 'HEAD') {
          assert.match(res.body, /"requestId":"[^"]+"/, describeRequest(request));
          answered += 1;
        }
      }
      assert.ok(answered > 100, `only ${answered} fuzzed requests were refused: the fuzz is too tame`);
    } finally {
      await app.close();
    }
  });
});
