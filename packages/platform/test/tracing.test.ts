// Runs in its own process: it starts the global OpenTelemetry SDK, sets OTEL_* variables and patches stderr.
/**
 * The SDK in this process: log correlation, exemplars, the traceparent of the server span, and an
 * export endpoint that hangs or refuses never failing a request.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { captureLogs } from '@sre/testkit';
import type { FastifyInstance } from 'fastify';
import { startTracing, type TracingHandle } from '../src/tracing/index.js';

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200, BODY_LIMIT_BYTES: 1024, REQUEST_TIMEOUT_MS: 5000 };

/** A fake collector (we cannot run a real one here) that records what it receives, or hangs. */
let mode: 'record' | 'hang' = 'record';
const received: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; service: string }> = [];
const hung: Socket[] = [];
const collector = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (mode === 'hang') {
    hung.push(req.socket);
    return; // accepts, reads nothing, never answers
  }
  let body = '';
  req.on('data', (c: Buffer) => (body += c));
  req.on('end', () => {
    const parsed = JSON.parse(body) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
        scopeSpans: Array<{ spans: typeof received }>;
      }>;
    };
    for (const rs of parsed.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans) for (const s of ss.spans) received.push({ ...s, service });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

let tracing: TracingHandle;
const warnings: string[] = [];
const { lines, destination } = captureLogs();
let app: FastifyInstance;
let management: FastifyInstance;
let base: string;

before(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    OTEL_BSP_MAX_QUEUE_SIZE: '64',
  });
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (String(chunk).includes('tracing:')) warnings.push(String(chunk));
    return stderrWrite(chunk, ...rest);
  }) as typeof process.stderr.write;
  tracing = await startTracing('demo');
  // As in a service: the app's modules load after the SDK started (the preload), never before.
  const { activeTraceparent, createHttpApp, createManagementApp, createPlatform } = await import('../src/index.js');
  const platform = createPlatform({ service: 'demo', config, logDestination: destination, collectProcessMetrics: false });
  app = createHttpApp(platform, { config });
  app.get('/items/:id', async (request) => {
    request.log.info('handling');
    return { traceparent: activeTraceparent() };
  });
  management = createManagementApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
  for (const s of hung) s.destroy();
  collector.close();
});

/** The test's own calls are not traced: their client span would inject a second traceparent. */
function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return context.with(suppressTracing(context.active()), () => fetch(`${base}${path}`, { headers }));
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('tracing in a service', () => {
  it('is off without an endpoint and with OTEL_SDK_DISABLED=true, without loading the SDK', async () => {
    assert.equal((await startTracing('x', { env: {} })).enabled, false);
    assert.match(
      (await startTracing('x', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' } })).reason,
      /OTEL_SDK_DISABLED/,
    );
    assert.equal(tracing.enabled, true);
  });

  it('continues the caller trace, and every log line of the request carries trace_id and span_id', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await get('/items/1', { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, 'x-request-id': 'r-trace' });
    const { traceparent } = (await res.json()) as { traceparent: string };
    assert.match(traceparent, new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
    const requestLines = lines.filter((l) => l.requestId === 'r-trace');
    assert.deepEqual(
      requestLines.map((l) => l.msg),
      ['handling', 'request completed'],
    );
    for (const line of requestLines) {
      assert.equal(line.trace_id, callerTrace);
      assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
      assert.equal('traceId' in line, false);
    }
    const server = await until('the server span', () => received.find((s) => s.traceId === callerTrace && s.parentSpanId === '00f067aa0ba902b7'));
    assert.equal(server.service, 'demo');
  });

  it('puts the trace id of a request on its latency bucket as an exemplar, in OpenMetrics only', async () => {
    const res = await get('/items/2');
    const traceId = ((await res.json()) as { traceparent: string }).traceparent.split('-')[1]!;
    const open = await management.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' },
    });
    assert.match(String(open.headers['content-type']), /^application\/openmetrics-text/);
    assert.match(
      open.body,
      new RegExp(`^http_request_duration_seconds_bucket\\{[^}]*route="/items/:id"[^}]*\\} \\d+ # \\{trace_id="${traceId}"\\} [0-9.e-]+ [0-9.]+$`, 'm'),
    );
    // Counters keep the series name every rule uses: the family is named without _total, samples with it.
    assert.match(open.body, /^# TYPE http_requests counter$/m);
    assert.match(open.body, /^http_requests_total\{/m);
    assert.doesNotMatch(open.body, /_total_total/);
    assert.match(open.body, /# EOF\n?$/);
    const plain = await management.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(plain.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.doesNotMatch(plain.body, /trace_id=/);
    assert.match(plain.body, /^http_requests_total\{/m);
  });

  it('serves every request while the collector accepts and never answers, then refuses; warns once', async () => {
    mode = 'hang';
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(`/items/${i}`)).status);
    await until('the hung export', () => (hung.length > 0 ? true : undefined));
    await until('the export timeout warning', () => (warnings.length > 0 ? true : undefined));
    for (const s of hung) s.destroy();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
    for (let i = 0; i < 20; i++) statuses.push((await get(`/items/${i}`)).status);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(warnings.length, 1, `one warning for a dead collector, got: ${warnings.join('')}`);
    await tracing.shutdown();
  });
});
