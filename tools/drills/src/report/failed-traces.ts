import type { StoredSpan } from '@sre/observe/traces';
import type { FailedRequestTrace, TrafficSample } from '../types.js';

/**
 * For the requests that failed while the fault was on, the trace that shows which hop failed.
 * The traffic generator starts each request's trace (it sends a W3C traceparent and records the
 * trace id); the services continue it and export their spans to the local trace store of the
 * drill platform. The failing hop is the deepest span marked as an error: its parent calls failed
 * because of it, while it failed on its own (a refused connection, a database error, an injected fault).
 */

export type { FailedRequestTrace };

export function failingHop(spans: readonly StoredSpan[]): StoredSpan | undefined {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = (s: StoredSpan): number => {
    let d = 0;
    for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p && d < 100; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) d++;
    return d;
  };
  const errors = spans.filter((s) => s.status === 'error');
  // Deepest first; among equals the latest to start (a retry that failed last is the one that mattered).
  return errors.sort((a, b) => depth(b) - depth(a) || b.startMs - a.startMs)[0];
}

/**
 * Up to `limit` failed requests inside [fromMs, toMs) (ms since the drill started), spread over
 * the window rather than the first few, each with what its trace says.
 */
export function failedRequestTraces(
  samples: readonly TrafficSample[],
  window: { fromMs: number; toMs: number },
  lookup: (traceId: string) => readonly StoredSpan[] | undefined,
  limit = 12,
): FailedRequestTrace[] {
  const failed = samples.filter((s) => !s.ok && s.traceId && s.t >= window.fromMs && s.t < window.toMs);
  const every = Math.max(1, Math.ceil(failed.length / limit));
  return failed
    .filter((_, i) => i % every === 0)
    .slice(0, limit)
    .map((s) => {
      const spans = [...(lookup(s.traceId as string) ?? [])].sort((a, b) => a.startMs - b.startMs);
      const hop = failingHop(spans);
      return {
        t: s.t,
        route: s.route,
        status: s.status,
        traceId: s.traceId as string,
        spanCount: spans.length,
        ...(hop ? { failingHop: `${hop.service}: ${hop.name}${hop.statusMessage ? ` — ${hop.statusMessage}` : ''}` } : {}),
        path: [...new Set(spans.map((x) => x.service))],
      };
    });
}
