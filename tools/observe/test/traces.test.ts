import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { otlpHttpHandler, spansFromOtlpJson } from '../src/traces/otlp.js';
import { TraceStore, type StoredSpan } from '../src/traces/store.js';

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

function span(over: Partial<StoredSpan> & Pick<StoredSpan, 'traceId' | 'spanId'>): StoredSpan {
  return { name: 'GET /', service: 'gateway', kind: 'server', startMs: 1000, endMs: 1010, status: 'unset', attributes: {}, ...over };
}

/** An export as @opentelemetry/exporter-trace-otlp-http sends it with OTEL_EXPORTER_OTLP_PROTOCOL=http/json. */
function otlpExport(service: string, spans: object[]): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: '@fastify/otel' }, spans }],
      },
    ],
  };
}

const serverSpan = {
  traceId: TRACE_A,
  spanId: '1111111111111111',
  name: 'POST /v1/images',
  kind: 2,
  startTimeUnixNano: '1700000000000000000',
  endTimeUnixNano: '1700000000250000000',
  attributes: [
    { key: 'http.response.status_code', value: { intValue: 502 } },
    { key: 'http.route', value: { stringValue: '/v1/images' } },
    { key: 'retried', value: { boolValue: true } },
  ],
  status: { code: 2, message: 'upstream failed' },
};

describe('spansFromOtlpJson', () => {
  it('turns an OTLP/JSON export into stored spans with service, kind, times in ms and status', () => {
    const [s] = spansFromOtlpJson(otlpExport('gateway', [serverSpan]));
    assert.deepEqual(s, {
      traceId: TRACE_A,
      spanId: '1111111111111111',
      name: 'POST /v1/images',
      service: 'gateway',
      kind: 'server',
      startMs: 1_700_000_000_000,
      endMs: 1_700_000_000_250,
      status: 'error',
      statusMessage: 'upstream failed',
      attributes: { 'http.response.status_code': 502, 'http.route': '/v1/images', retried: true },
    });
  });

  it('keeps the parent span id and treats an empty one as none', () => {
    const spans = spansFromOtlpJson(
      otlpExport('images', [
        { ...serverSpan, parentSpanId: '2222222222222222' },
        { ...serverSpan, spanId: '3333333333333333', parentSpanId: '' },
      ]),
    );
    assert.equal(spans[0]!.parentSpanId, '2222222222222222');
    assert.equal('parentSpanId' in spans[1]!, false);
  });

  it('rejects malformed input with an error naming the bad field', () => {
    assert.throws(() => spansFromOtlpJson({}), /malformed OTLP\/JSON trace export at resourceSpans/);
    assert.throws(
      () => spansFromOtlpJson(otlpExport('x', [{ ...serverSpan, traceId: 'xyz' }])),
      /resourceSpans\.0\.scopeSpans\.0\.spans\.0\.traceId: .*16-byte hex id/,
    );
    assert.throws(() => spansFromOtlpJson(otlpExport('x', [{ ...serverSpan, startTimeUnixNano: -1 }])), /startTimeUnixNano/);
    assert.throws(() => spansFromOtlpJson(null), /malformed OTLP\/JSON/);
  });
});

describe('TraceStore', () => {
  it('joins the spans of one trace sent in separate batches and summarizes from the root', () => {
    const store = new TraceStore();
    store.add([span({ traceId: TRACE_A, spanId: '2', parentSpanId: '1', service: 'images', name: 'INSERT', startMs: 1005, endMs: 1030, status: 'error' })]);
    store.add([span({ traceId: TRACE_A, spanId: '1', service: 'gateway', name: 'POST /v1/images', startMs: 1000, endMs: 1020 })]);
    assert.deepEqual(store.list({ order: 'recent' }), [
      {
        traceId: TRACE_A,
        rootService: 'gateway',
        rootName: 'POST /v1/images',
        startMs: 1000,
        durationMs: 30,
        spanCount: 2,
        errorCount: 1,
        services: ['gateway', 'images'],
      },
    ]);
    assert.deepEqual(
      store.get(TRACE_A)!.map((s) => s.spanId),
      ['1', '2'],
    );
    assert.equal(store.get('f'.repeat(32)), undefined);
  });

  it('orders by recent, slowest, and lists only traces with errors for errors', () => {
    const store = new TraceStore();
    store.add([span({ traceId: TRACE_A, spanId: '1', startMs: 0, endMs: 500 })]);
    store.add([span({ traceId: TRACE_B, spanId: '1', startMs: 100, endMs: 110, status: 'error' })]);
    assert.deepEqual(
      store.list({ order: 'recent' }).map((t) => t.traceId),
      [TRACE_B, TRACE_A],
    );
    assert.deepEqual(
      store.list({ order: 'slowest' }).map((t) => t.traceId),
      [TRACE_A, TRACE_B],
    );
    assert.deepEqual(
      store.list({ order: 'errors' }).map((t) => t.traceId),
      [TRACE_B],
    );
    assert.equal(store.list({ order: 'recent', limit: 1 }).length, 1);
  });

  it('forgets the oldest trace beyond maxTraces and stores a retried span once', () => {
    const store = new TraceStore({ maxTraces: 2 });
    const c = 'c'.repeat(32);
    for (const traceId of [TRACE_A, TRACE_B, c]) store.add([span({ traceId, spanId: '1' }), span({ traceId, spanId: '1' })]);
    assert.equal(store.get(TRACE_A), undefined);
    assert.equal(store.get(c)!.length, 1);
    assert.throws(() => new TraceStore({ maxTraces: 0 }), /maxTraces must be a positive integer/);
  });
});

describe('otlpHttpHandler', () => {
  const store = new TraceStore();
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer(otlpHttpHandler(store, { maxBodyBytes: 64 * 1024 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string, type = 'application/json', path = '/v1/traces') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

  it('stores the spans of a JSON export and answers an empty ExportTraceServiceResponse', async () => {
    const res = await post(JSON.stringify(otlpExport('auth', [{ ...serverSpan, traceId: 'd'.repeat(32) }])));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.equal(store.get('d'.repeat(32))![0]!.service, 'auth');
  });

  it('answers 415 naming OTEL_EXPORTER_OTLP_PROTOCOL=http/json for protobuf', async () => {
    const res = await post('\n\u0002\b\u0001', 'application/x-protobuf');
    assert.equal(res.status, 415);
    assert.match(((await res.json()) as { error: string }).error, /OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
  });

  it('answers 400 with the reason for malformed JSON and for a wrong shape, storing nothing', async () => {
    const before = store.list({ order: 'recent' }).length;
    const notJson = await post('{"resourceSpans": [');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /body is not JSON/);
    const wrongShape = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 1 }] }] }] }));
    assert.equal(wrongShape.status, 400);
    assert.match(((await wrongShape.json()) as { error: string }).error, /malformed OTLP\/JSON trace export at resourceSpans\.0\.scopeSpans\.0\.spans\.0/);
    assert.equal(store.list({ order: 'recent' }).length, before);
  });

  it('answers 413 for a body over the limit, declared or streamed without a length', async () => {
    const declared = await post('x'.repeat(64 * 1024 + 1));
    assert.equal(declared.status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 80; i++) req.write('y'.repeat(1024));
      req.end();
    });
    assert.equal(chunked, 413);
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    assert.equal((await post('{}', 'application/json', '/v1/metrics')).status, 404);
    assert.equal((await fetch(`${base}/v1/traces`)).status, 405);
  });
});
