import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import type { StoredSpan } from '@sre/observe/traces';
import { failedRequestTraces, failingHop } from '../src/report/failed-traces.js';
import { toHtml, toMarkdown } from '../src/report/write.js';
import { startTraffic } from '../src/traffic.js';
import type { Journal, TrafficSample } from '../src/types.js';

/** Issue 13: the drill report shows, for requests that failed during the fault, the trace and the hop that failed. */

const span = (
  traceId: string,
  spanId: string,
  parentSpanId: string | undefined,
  service: string,
  name: string,
  status: StoredSpan['status'],
  startMs: number,
  statusMessage?: string,
): StoredSpan => ({
  traceId,
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  service,
  kind: 'server',
  startMs,
  endMs: startMs + 10,
  status,
  ...(statusMessage ? { statusMessage } : {}),
  attributes: {},
});

const failedUpload = (id: string): StoredSpan[] => [
  span(id, 'g', undefined, 'gateway', 'GET /api/images', 'error', 0, 'upstream answered 503'),
  span(id, 'gc', 'g', 'gateway', 'GET', 'error', 1),
  span(id, 'i', 'gc', 'images', 'GET /images', 'error', 2, 'database unavailable'),
  span(id, 'q', 'i', 'images', 'pg.connect', 'unset', 3),
];

describe('drill reports: the failing hop of a failed request', () => {
  it('is the deepest error span, not the gateway that passed the error on', () => {
    assert.equal(failingHop(failedUpload('t1'))?.name, 'GET /images');
    assert.equal(failingHop([span('t', 'a', undefined, 'gateway', 'x', 'ok', 0)]), undefined);
  });

  it('takes failed requests inside the fault window only, spread over it, with what their traces say', () => {
    const samples: TrafficSample[] = [];
    for (let t = 0; t < 100; t++)
      samples.push({
        t: t * 100,
        cls: 'images',
        route: 'GET /api/images',
        status: t % 2 ? 503 : 200,
        ok: t % 2 === 0,
        latencyMs: 5,
        phase: 'observe',
        traceId: `trace-${t}`,
      });
    const lookup = (id: string) => (id === 'trace-41' ? failedUpload(id) : undefined);
    const traces = failedRequestTraces(samples, { fromMs: 4000, toMs: 6000 }, lookup, 5);
    assert.equal(traces.length, 5);
    assert.ok(traces.every((t) => t.t >= 4000 && t.t < 6000 && t.status === 503));
    assert.deepEqual(traces[0], {
      t: 4100,
      route: 'GET /api/images',
      status: 503,
      traceId: 'trace-41',
      spanCount: 4,
      failingHop: 'images: GET /images — database unavailable',
      path: ['gateway', 'images'],
    });
    assert.deepEqual(traces[1]?.path, []);
    assert.equal(traces[1]?.failingHop, undefined);
  });

  it('the report links each failed request to its trace in the viewer, or says why there are no spans', () => {
    const base = {
      version: 1,
      scenario: 'error-burst',
      title: 'Error burst',
      summary: '',
      target: 'local',
      dryRun: false,
      startedAt: '',
      finishedAt: '',
      result: 'passed',
      environment: {},
      phases: [],
      events: [],
      actions: [],
      expectations: [],
      traffic: [],
      queries: [],
      alertStates: [],
      notifications: [],
      logs: [],
      markers: {},
    } as unknown as Journal;
    const withTraces: Journal = {
      ...base,
      traceViewUrl: 'http://localhost:3000/traces',
      failedRequestTraces: [
        {
          t: 4100,
          route: 'GET /api/images',
          status: 503,
          traceId: 'ab12',
          spanCount: 4,
          failingHop: 'images: GET /images — database unavailable',
          path: ['gateway', 'images'],
        },
      ],
    };
    const html = toHtml(withTraces);
    assert.match(html, /<h2>Failed requests and their traces<\/h2>/);
    assert.match(html, /<a href="http:\/\/localhost:3000\/traces\/ab12"><code>ab12<\/code><\/a>/);
    assert.match(html, /images: GET \/images — database unavailable/);
    assert.match(
      toMarkdown(withTraces),
      /\| 4 s \| GET \/api\/images \| 503 \| images: GET \/images — database unavailable \| gateway → images \| http:\/\/localhost:3000\/traces\/ab12 \|/,
    );
    const noSpans: Journal = { ...base, failedRequestTraces: [{ t: 1, route: 'r', status: 503, traceId: 'cd34', spanCount: 0, path: [] }] };
    assert.match(toHtml(noSpans), /No spans arrived for these requests/);
    assert.doesNotMatch(toHtml(base), /Failed requests and their traces/, 'targets without a trace store have no such section');
  });
});

describe('drill traffic starts a sampled W3C trace for every request and records its id', () => {
  it('sends traceparent 00-<trace id>-<span id>-01 on every request, the sample keeps the trace id', async () => {
    const seen: string[] = [];
    const gateway = createServer((req, res) => {
      seen.push(String(req.headers.traceparent));
      req.resume();
      req.on('end', () => {
        const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url === '/api/auth/register') json(201, {});
        else if (req.url === '/api/auth/login') json(200, { accessToken: 'token' });
        else if (req.method === 'POST' && req.url === '/api/images') json(201, { id: 'img-1' });
        else json(503, { error: { code: 'IMAGES_DATABASE_UNAVAILABLE' } });
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const port = (gateway.address() as { port: number }).port;
    try {
      const traffic = await startTraffic({
        gatewayUrl: `http://127.0.0.1:${port}`,
        origin: Date.now(),
        phase: () => 'observe',
        ratePerSecond: 40,
        loginEveryMs: 60_000,
      });
      await new Promise((r) => setTimeout(r, 500));
      await traffic.stop();
      assert.ok(traffic.samples.length >= 3, `samples: ${traffic.samples.length}`);
      for (const h of seen) assert.match(h, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.equal(new Set(seen).size, seen.length, 'a new trace per request');
      for (const s of traffic.samples)
        assert.ok(
          seen.some((h) => h.split('-')[1] === s.traceId),
          `sample ${s.route} has the trace id it was sent with`,
        );
    } finally {
      await new Promise<void>((r) => gateway.close(() => r()));
    }
  });
});
