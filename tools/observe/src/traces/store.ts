/**
 * Recent traces in memory, for the local trace view of `npm run observe`.
 *
 * STAND-IN: the "trace" work on issue 13 owns this file and its OTLP receiver (otlp.ts); this is a
 * minimal implementation of the agreed interface so the viewer could be built in parallel. The
 * integrator keeps the other implementation.
 */

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  kind: string;
  startMs: number;
  endMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage?: string;
  attributes: Record<string, string | number | boolean>;
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}

export class TraceStore {
  // Insertion order is arrival order: the oldest trace is the first key, evicted first.
  private readonly traces = new Map<string, StoredSpan[]>();
  private readonly maxTraces: number;

  constructor(opts: { maxTraces?: number } = {}) {
    this.maxTraces = opts.maxTraces ?? 1000;
  }

  add(spans: StoredSpan[]): void {
    for (const span of spans) {
      const trace = this.traces.get(span.traceId);
      if (trace) trace.push(span);
      else this.traces.set(span.traceId, [span]);
    }
    while (this.traces.size > this.maxTraces) this.traces.delete(this.traces.keys().next().value as string);
  }

  get(traceId: string): StoredSpan[] | undefined {
    const spans = this.traces.get(traceId);
    return spans ? [...spans].sort((a, b) => a.startMs - b.startMs) : undefined;
  }

  list(opts: { order: 'recent' | 'slowest' | 'errors'; limit?: number }): TraceSummary[] {
    let all = [...this.traces.keys()].map((id) => summarize(id, this.traces.get(id) as StoredSpan[]));
    if (opts.order === 'errors') all = all.filter((t) => t.errorCount > 0);
    const key = opts.order === 'slowest' ? (t: TraceSummary) => t.durationMs : (t: TraceSummary) => t.startMs;
    return all.sort((a, b) => key(b) - key(a)).slice(0, opts.limit ?? 50);
  }
}

function summarize(traceId: string, spans: StoredSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  // The root is the span without a parent here; a trace whose root has not arrived yet shows its earliest span.
  const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? (spans[0] as StoredSpan);
  const startMs = Math.min(...spans.map((s) => s.startMs));
  const endMs = Math.max(...spans.map((s) => s.endMs));
  return {
    traceId,
    rootService: root.service,
    rootName: root.name,
    startMs,
    durationMs: endMs - startMs,
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status === 'error').length,
    services: [...new Set(spans.map((s) => s.service))].sort(),
  };
}
