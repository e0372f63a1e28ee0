/**
 * Recent traces kept in memory for the local trace view (issue 13). Spans of one trace arrive in
 * several OTLP batches (each service exports on its own), so a trace is a bag of spans keyed by trace
 * id; its summary is computed when listed, never cached, so late spans always count.
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

/** Enough for an afternoon of clicking around one machine, small enough to never matter for memory. */
const DEFAULT_MAX_TRACES = 1000;
/** A runaway loop inside one trace must not grow a single entry without bound. */
const MAX_SPANS_PER_TRACE = 2000;

export class TraceStore {
  private readonly maxTraces: number;
  /** Insertion order is eviction order: a Map iterates oldest first. */
  private readonly traces = new Map<string, StoredSpan[]>();

  constructor(opts: { maxTraces?: number } = {}) {
    this.maxTraces = opts.maxTraces ?? DEFAULT_MAX_TRACES;
    if (!Number.isInteger(this.maxTraces) || this.maxTraces < 1) throw new Error(`TraceStore: maxTraces must be a positive integer, got ${opts.maxTraces}`);
  }

  add(spans: StoredSpan[]): void {
    for (const span of spans) {
      let trace = this.traces.get(span.traceId);
      if (!trace) {
        trace = [];
        this.traces.set(span.traceId, trace);
        this.evict();
      }
      // An exporter may retry a batch it thinks failed: a span id is stored once.
      if (trace.length < MAX_SPANS_PER_TRACE && !trace.some((s) => s.spanId === span.spanId)) trace.push(span);
    }
  }

  list(opts: { order: 'recent' | 'slowest' | 'errors'; limit?: number }): TraceSummary[] {
    let summaries = [...this.traces.entries()].map(([traceId, spans]) => summarize(traceId, spans));
    if (opts.order === 'errors') summaries = summaries.filter((s) => s.errorCount > 0);
    summaries.sort(opts.order === 'slowest' ? (a, b) => b.durationMs - a.durationMs : (a, b) => b.startMs - a.startMs);
    return summaries.slice(0, opts.limit ?? 50);
  }

  /** The spans of one trace, earliest first. */
  get(traceId: string): StoredSpan[] | undefined {
    const spans = this.traces.get(traceId);
    return spans && [...spans].sort((a, b) => a.startMs - b.startMs);
  }

  private evict(): void {
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
    }
  }
}

function summarize(traceId: string, spans: StoredSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  // The root is the earliest span without a parent here: a trace whose root has not arrived yet
  // (or was cut) still shows its earliest known span as root.
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  const root = (roots.length > 0 ? roots : spans).reduce((a, b) => (b.startMs < a.startMs ? b : a));
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
