import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { captureLogs } from '@sre/testkit';
import type { ZodTypeProvider } from '../src/index.js';
import { AppError, createHttpApp, createManagementApp, createPlatform, defineErrorCatalogue, invalidRequestAs, z } from '../src/index.js';

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200, BODY_LIMIT_BYTES: 1024, REQUEST_TIMEOUT_MS: 5000 };

function build() {
  const { lines, destination } = captureLogs();
  const platform = createPlatform({ service: 'demo', config, logDestination: destination, collectProcessMetrics: false });
  const app = createHttpApp(platform, { config });
  const catalogue = defineErrorCatalogue({
    DEMO_BROKEN: { status: 503, message: 'Broken on purpose.' },
    DEMO_BAD_ID: { status: 400, message: 'The id is malformed.' },
  });
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post('/echo', { schema: { body: z.strictObject({ name: z.string().max(10) }) } }, async (req) => req.body);
  api.get(
    '/typed/:id',
    {
      schema: { params: z.object({ id: z.string().regex(/^\d+$/, 'must be digits') }), response: { 200: z.object({ id: z.string() }) } },
      schemaErrorFormatter: invalidRequestAs({ params: catalogue.DEMO_BAD_ID }),
    },
    async (req) => ({ id: req.params.id, secret: 'not in the schema' }),
  );
  api.get('/wrong-shape', { schema: { response: { 200: z.object({ count: z.number() }) } } }, async () => ({ count: 'three' }) as unknown as { count: number });
  app.get('/items/:id', async () => ({ ok: true }));
  app.get('/broken', async () => {
    throw catalogue.DEMO_BROKEN();
  });
  app.get('/crash', async () => {
    throw new Error('secret internals at /srv/app.js:10');
  });
  return { platform, app, lines, management: createManagementApp(platform) };
}

describe('platform HTTP app', () => {
  it('echoes a valid x-request-id and generates one for an invalid id', async () => {
    const { app } = build();
    const ok = await app.inject({ method: 'GET', url: '/items/1', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(ok.headers['x-request-id'], 'abc-123');
    const hostile = await app.inject({ method: 'GET', url: '/items/1', headers: { 'x-request-id': 'bad id\u0000<script>' } });
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('logs the trace id of a valid traceparent with the request id when tracing is off', async () => {
    const { app, lines } = build();
    await app.inject({
      method: 'GET',
      url: '/items/1',
      headers: { 'x-request-id': 'r1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    const line = lines.find((l) => l.msg === 'request completed');
    assert.equal(line?.requestId, 'r1');
    assert.equal(line?.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(line?.service, 'demo');
  });

  it("answers a route's own catalogued code for an invalid part, with the schema's message", async () => {
    const { app } = build();
    const res = await app.inject({ method: 'GET', url: '/typed/abc' });
    assert.equal(res.statusCode, 400);
    const body = res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'DEMO_BAD_ID');
    assert.match(body.error.message, /id: must be digits/);
  });

  it('sends only what the response schema declares, and never a body that breaks it', async () => {
    const { app } = build();
    const ok = await app.inject({ method: 'GET', url: '/typed/42' });
    assert.deepEqual(ok.json(), { id: '42' }, 'a field the schema does not name is not sent');
    const wrong = await app.inject({ method: 'GET', url: '/wrong-shape' });
    assert.equal(wrong.statusCode, 500);
    assert.equal((wrong.json() as { error: { code: string } }).error.code, 'INTERNAL');
  });

  const badBodies: Array<[string, { payload?: string; contentType?: string }, number, string]> = [
    ['malformed JSON', { payload: '{"name":', contentType: 'application/json' }, 400, 'MALFORMED_JSON'],
    ['empty JSON body', { payload: '', contentType: 'application/json' }, 400, 'EMPTY_BODY'],
    ['wrong content type', { payload: 'name=x', contentType: 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['extra field', { payload: '{"name":"a","admin":true}', contentType: 'application/json' }, 400, 'VALIDATION_FAILED'],
    ['missing field', { payload: '{}', contentType: 'application/json' }, 400, 'VALIDATION_FAILED'],
    ['oversized body', { payload: JSON.stringify({ name: 'x'.repeat(5000) }), contentType: 'application/json' }, 413, 'PAYLOAD_TOO_LARGE'],
  ];
  for (const [name, input, status, code] of badBodies) {
    it(`answers ${status} ${code} for ${name}`, async () => {
      const { app } = build();
      const res = await app.inject({
        method: 'POST',
        url: '/echo',
        payload: input.payload,
        headers: input.contentType ? { 'content-type': input.contentType } : {},
      });
      assert.equal(res.statusCode, status);
      const body = res.json() as { error: { code: string; requestId: string; message: string } };
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, res.headers['x-request-id']);
    });
  }

  it('uses the catalogued status and code, and never leaks an internal error', async () => {
    const { app } = build();
    const broken = await app.inject({ method: 'GET', url: '/broken' });
    assert.equal(broken.statusCode, 503);
    assert.equal((broken.json() as { error: { code: string } }).error.code, 'DEMO_BROKEN');
    const crash = await app.inject({ method: 'GET', url: '/crash' });
    assert.equal(crash.statusCode, 500);
    assert.deepEqual(Object.keys(crash.json() as object), ['error']);
    assert.doesNotMatch(crash.body, /secret internals|app\.js/);
  });

  it('answers 404 in the shared shape and 414 for an overlong URL', async () => {
    const { app } = build();
    const missing = await app.inject({ method: 'GET', url: '/nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal((missing.json() as { error: { code: string } }).error.code, 'NOT_FOUND');
    const long = await app.inject({ method: 'GET', url: `/items/${'a'.repeat(5000)}` });
    assert.equal(long.statusCode, 414);
  });

  it('counts requests by route template, not by raw URL', async () => {
    const { app, platform } = build();
    await app.inject({ method: 'GET', url: '/items/1' });
    await app.inject({ method: 'GET', url: '/items/2' });
    const text = await platform.metrics.registry.metrics();
    assert.match(text, /http_requests_total\{service="demo",method="GET",route="\/items\/:id",status_code="200"\} 2/);
    assert.doesNotMatch(text, /route="\/items\/1"/);
    assert.match(text, /http_request_duration_seconds_bucket\{.*route="\/items\/:id"/);
  });

  it('AppError carries its headers to the response', async () => {
    const { app } = build();
    app.get('/limited', async () => {
      throw new AppError('RATE_LIMITED', 429, 'slow down', { headers: { 'retry-after': '7' } });
    });
    const res = await app.inject({ method: 'GET', url: '/limited' });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '7');
  });
});

describe('management app', () => {
  it('liveness ignores dependencies; readiness reports each check and fails while one fails', async () => {
    const { platform, management } = build();
    let dbUp = false;
    platform.health.addCheck({
      name: 'database',
      check: async () => {
        if (!dbUp) throw new Error('connect ECONNREFUSED postgres://u:p@h/db');
      },
    });
    platform.health.addCheck({ name: 'slow', check: () => new Promise((r) => setTimeout(r, 5000)) });
    assert.equal((await management.inject({ url: '/livez' })).statusCode, 200);
    const down = await management.inject({ url: '/readyz' });
    assert.equal(down.statusCode, 503);
    const body = down.json() as { checks: Record<string, { ok: boolean; error?: string }> };
    assert.equal(body.checks.database?.ok, false);
    assert.doesNotMatch(down.body, /u:p@/, 'connection strings are scrubbed');
    assert.match(body.checks.slow?.error ?? '', /timed out/);
    const metrics = await management.inject({ url: '/metrics' });
    assert.match(metrics.body, /service_health_check_status\{check="database"\} 0/);
    dbUp = true;
    platform.health.addCheck({ name: 'noop', check: async () => undefined });
  });

  it('readiness is 503 "draining" once draining starts, while liveness stays 200', async () => {
    const { platform, management, app } = build();
    assert.equal((await management.inject({ url: '/readyz' })).statusCode, 200);
    platform.health.startDraining();
    const res = await management.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal((res.json() as { status: string }).status, 'draining');
    assert.equal((await management.inject({ url: '/livez' })).statusCode, 200);
    const served = await app.inject({ url: '/items/1' });
    assert.equal(served.statusCode, 200, 'still serving during the drain delay');
    assert.equal(served.headers.connection, 'close');
  });

  it('a metrics scrape alone refreshes the health-check gauge', async () => {
    const { platform, management } = build();
    let storageUp = true;
    platform.health.addCheck({
      name: 'storage',
      check: async () => {
        if (!storageUp) throw new Error('down');
      },
    });
    assert.match((await management.inject({ url: '/metrics' })).body, /service_health_check_status\{check="storage"\} 1/);
    storageUp = false;
    assert.match((await management.inject({ url: '/metrics' })).body, /service_health_check_status\{check="storage"\} 0/);
  });

  it('the public app serves none of the management routes', async () => {
    const { app } = build();
    for (const url of ['/livez', '/readyz', '/metrics']) assert.equal((await app.inject({ url })).statusCode, 404);
  });
});

describe('limits enforced by the listening server', () => {
  async function listening() {
    const { app } = build();
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    return { app, port: Number(url.port) };
  }

  /** Sends raw bytes and resolves with the first response line (bounded by the caller's timeout). */
  function rawRequest(port: number, bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.includes('\r\n')) {
          socket.destroy();
          resolve(received.split('\r\n')[0] ?? '');
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
    });
  }

  it('answers 431 to a header block over 16 KiB', async () => {
    const { app, port } = await listening();
    try {
      const line = await rawRequest(port, `GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.match(line, /^HTTP\/1\.1 431/);
    } finally {
      await app.close();
    }
  });

  it('answers 408 to a request body that never finishes arriving (slow-loris guard)', { timeout: 20_000 }, async () => {
    const { app, port } = await listening();
    try {
      // REQUEST_TIMEOUT_MS is 5 s in this config; the body promises 100 bytes and sends 5.
      const line = await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na');
      assert.match(line, /^HTTP\/1\.1 408/);
    } finally {
      await app.close();
    }
  });
});
