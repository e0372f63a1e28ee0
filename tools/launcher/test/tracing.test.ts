/**
 * Issue 13: one upload through the gateway is one trace, gateway → images → PostgreSQL and S3, with
 * correct parent ids, received by the OTLP/HTTP JSON receiver `npm run observe` uses; a failing
 * upstream marks the gateway's span as an error. Real services (launched as `npm start` does, with
 * their tracing preload), real PostgreSQL, s3rver for S3.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startS3Server, type S3Server } from '@sre/images/testing';
import { otlpHttpHandler } from '@sre/observe/otlp';
import { TraceStore, type StoredSpan } from '@sre/observe/traces';
import { LOCAL_OTLP_ENDPOINT, localTracingDefaults } from '../src/launcher.js';
import { pngImage, registerAndLogin, startPlatform, upload, type RunningPlatform } from './helpers.js';

const store = new TraceStore();
const receiver = createServer(otlpHttpHandler(store));
let s3: S3Server;
let platform: RunningPlatform;

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  s3 = await startS3Server('traced-images');
  platform = await startPlatform({
    database: 'postgres',
    env: {
      ...s3.env,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1',
    },
  });
});

after(async () => {
  await platform?.stop();
  await s3?.destroy();
  receiver.close();
});

/** Polls the store (spans arrive in batches from three processes); bounded. */
async function spansUntil(traceId: string, done: (spans: StoredSpan[]) => boolean): Promise<StoredSpan[]> {
  for (let i = 0; i < 300; i++) {
    const spans = store.get(traceId) ?? [];
    if (done(spans)) return spans;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`trace ${traceId} incomplete: ${JSON.stringify((store.get(traceId) ?? []).map((s) => `${s.service} ${s.kind} ${s.name}`))}`);
}

function ancestors(span: StoredSpan, byId: Map<string, StoredSpan>): StoredSpan[] {
  const chain: StoredSpan[] = [];
  for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) chain.push(p);
  return chain;
}

const isPg = (s: StoredSpan) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';
const isS3 = (s: StoredSpan) => s.attributes['rpc.service'] === 'S3' || s.name.startsWith('S3.');

describe('tracing across the platform', () => {
  it('launcher: points services at the local receiver unless OTEL_* says otherwise', () => {
    assert.deepEqual(localTracingDefaults({}), { OTEL_EXPORTER_OTLP_ENDPOINT: LOCAL_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    assert.deepEqual(localTracingDefaults({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), {});
    assert.deepEqual(localTracingDefaults({ OTEL_SDK_DISABLED: 'true' }), {});
  });

  it('one upload is one trace: gateway → images → PostgreSQL and S3, every parent id in the trace', async () => {
    const { accessToken } = await registerAndLogin(platform.url);
    const res = await upload(platform.url, accessToken, await pngImage(), 'traced.png');
    assert.equal(res.status, 201);
    const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(res.headers.get('traceparent') ?? '')?.[1];
    assert.ok(traceId, `the gateway returns its traceparent, got ${res.headers.get('traceparent')}`);

    // Each process exports its own batches: wait for the gateway's spans as well as Images'.
    const spans = await spansUntil(
      traceId,
      (all) =>
        all.some((s) => s.service === 'gateway' && s.kind === 'server') &&
        all.some((s) => s.service === 'images' && s.kind === 'server') &&
        all.some(isPg) &&
        all.some(isS3) &&
        all.some((s) => s.name === 'images.thumbnail'),
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const roots = spans.filter((s) => !s.parentSpanId);
    assert.deepEqual(
      roots.map((s) => `${s.service} ${s.kind}`),
      ['gateway server'],
      'one root: the gateway server span',
    );
    for (const s of spans) if (s.parentSpanId) assert.ok(byId.has(s.parentSpanId), `parent of ${s.service} ${s.name} is in the trace`);

    const gatewayServer = roots[0]!;
    const imagesServer = spans.find((s) => s.service === 'images' && s.kind === 'server')!;
    const hop = byId.get(imagesServer.parentSpanId!)!;
    assert.equal(hop.service, 'gateway');
    assert.equal(hop.kind, 'client', 'images continues the trace from the gateway client span (W3C traceparent)');
    assert.ok(ancestors(hop, byId).includes(gatewayServer));
    for (const [what, span] of [
      ['PostgreSQL', spans.find(isPg)!],
      ['S3', spans.find(isS3)!],
      ['thumbnail', spans.find((s) => s.name === 'images.thumbnail')!],
    ] as const) {
      assert.equal(span.service, 'images', what);
      assert.ok(ancestors(span, byId).includes(imagesServer), `${what} span hangs under the images request span`);
    }
    assert.equal(gatewayServer.attributes['deployment.environment'], undefined, 'resource attributes are not span attributes');
    // @fastify/otel names hook spans after their plugin: an anonymous plugin is named by its source text.
    const unreadable = spans.filter((s) => s.name.length > 120).map((s) => s.name.slice(0, 80));
    assert.deepEqual(unreadable, [], 'every span name is readable (name the plugin functions)');
    assert.equal(
      store
        .list({ order: 'recent', limit: 1000 })
        .filter((t) => (store.get(t.traceId) ?? []).some((s) => s.service === 'images' && s.kind === 'server' && s.name.startsWith('POST'))).length,
      1,
      'the upload is one trace',
    );

    // The logs of both hops carry this trace (and a span id), so the trace leads to its log lines.
    for (const service of ['gateway', 'images']) {
      const lines = readFileSync(join(platform.dataDir, 'logs', `${service}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.includes(traceId));
      assert.ok(lines.length > 0, `${service} logged the trace id`);
      for (const line of lines.filter((l) => l.startsWith('{'))) assert.match(line, /"span_id":"[0-9a-f]{16}"/);
    }
  });

  it('a failing upstream marks the gateway span as an error', async () => {
    const { accessToken } = await registerAndLogin(platform.url);
    await platform.launcher.stopService('images');
    try {
      const res = await upload(platform.url, accessToken, await pngImage(), 'down.png');
      assert.ok(res.status >= 500, `images down: ${res.status}`);
      const traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceparent') ?? '')?.[1];
      assert.ok(traceId);
      const spans = await spansUntil(traceId, (all) => all.some((s) => s.service === 'gateway' && s.kind === 'server'));
      const server = spans.find((s) => s.service === 'gateway' && s.kind === 'server')!;
      assert.equal(server.status, 'error');
      assert.equal(
        spans.some((s) => s.service === 'images'),
        false,
      );
      assert.ok(store.list({ order: 'errors' }).some((t) => t.traceId === traceId));
    } finally {
      await platform.launcher.startService('images');
    }
  });
});
