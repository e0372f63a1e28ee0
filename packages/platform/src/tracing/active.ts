import { isSpanContextValid, SpanStatusCode, trace } from '@opentelemetry/api';

export interface ActiveTraceIds {
  trace_id: string;
  span_id: string;
}

/**
 * The ids of the span active right now, for log lines and exemplars. Only the API is touched: with
 * tracing off there is no context manager, so this is one map lookup returning undefined.
 */
export function activeTraceIds(): ActiveTraceIds | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : undefined;
}

/** The active span as a W3C traceparent (https://www.w3.org/TR/trace-context/#traceparent-header), else undefined. */
export function activeTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * Runs `fn` inside a span named `name` (work no library instruments, like sharp's), marking the span
 * as an error when it throws. With tracing off the API's no-op tracer makes this a plain call.
 */
export async function withSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('@sre/platform').startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
