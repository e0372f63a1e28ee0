/**
 * An OTLP/HTTP receiver for traces in the JSON encoding (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * what the services export when OTEL_EXPORTER_OTLP_PROTOCOL=http/json, which `npm start` sets by default.
 * Protobuf is refused with a message naming that variable rather than decoded: one encoding keeps
 * this a small, dependency-free receiver for one machine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { StoredSpan, TraceStore } from './store.js';

/** A batch of the SDK's default size (512 spans) is well under 1 MiB; 8 MiB leaves room and still bounds memory. */
export const MAX_OTLP_BODY_BYTES = 8 * 1024 * 1024;

const HEX_ID = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `a ${bytes}-byte hex id`);
/** int64 fields are strings in OTLP/JSON (JavaScript numbers lose precision past 2^53); accept both. */
const INT64 = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]);

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: unknown;
  bytesValue?: string;
};
const anyValueSchema: z.ZodType<AnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
    doubleValue: z.number().optional(),
    arrayValue: z.object({ values: z.array(anyValueSchema).optional() }).optional(),
    kvlistValue: z.unknown().optional(),
    bytesValue: z.string().optional(),
  }),
);
const keyValueSchema = z.object({ key: z.string(), value: anyValueSchema.optional() });

const spanSchema = z.object({
  traceId: HEX_ID(16),
  spanId: HEX_ID(8),
  parentSpanId: z.union([HEX_ID(8), z.literal('')]).optional(),
  name: z.string(),
  kind: z.union([z.number().int(), z.string()]).optional(),
  startTimeUnixNano: INT64,
  endTimeUnixNano: INT64,
  attributes: z.array(keyValueSchema).optional(),
  status: z.object({ code: z.union([z.number().int(), z.string()]).optional(), message: z.string().optional() }).optional(),
});

const requestSchema = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: z.array(keyValueSchema).optional() }).optional(),
      scopeSpans: z.array(z.object({ spans: z.array(spanSchema).optional() })).optional(),
    }),
  ),
});

/** SpanKind as the proto enum numbers it (SPAN_KIND_UNSPECIFIED = 0). */
const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = { 0: 'unset', 1: 'ok', 2: 'error', STATUS_CODE_UNSET: 'unset', STATUS_CODE_OK: 'ok', STATUS_CODE_ERROR: 'error' } as const;

function kindName(kind: number | string | undefined): string {
  if (typeof kind === 'string') return kind.replace(/^SPAN_KIND_/, '').toLowerCase();
  return KINDS[kind ?? 0] ?? 'unspecified';
}

function scalar(value: AnyValue | undefined): string | number | boolean {
  if (!value) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return JSON.stringify((value.arrayValue.values ?? []).map(scalar));
  return JSON.stringify(value.kvlistValue ?? value.bytesValue ?? '');
}

function attributesOf(list: z.infer<typeof keyValueSchema>[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, scalar(kv.value)]));
}

const nanosToMs = (nanos: string | number): number => Number(BigInt(nanos) / 1000n) / 1000;

/** The spans of an OTLP/JSON ExportTraceServiceRequest; throws an Error naming the first bad field. */
export function spansFromOtlpJson(body: unknown): StoredSpan[] {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`malformed OTLP/JSON trace export at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.resourceSpans.flatMap((rs) => {
    const resource = attributesOf(rs.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown_service';
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span): StoredSpan => {
        const status = STATUSES[(span.status?.code ?? 0) as keyof typeof STATUSES] ?? 'unset';
        return {
          traceId: span.traceId.toLowerCase(),
          spanId: span.spanId.toLowerCase(),
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId.toLowerCase() } : {}),
          name: span.name,
          service,
          kind: kindName(span.kind),
          startMs: nanosToMs(span.startTimeUnixNano),
          endMs: nanosToMs(span.endTimeUnixNano),
          status,
          ...(span.status?.message ? { statusMessage: span.status.message } : {}),
          attributes: attributesOf(span.attributes),
        };
      }),
    );
  });
}

function answer(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** POST /v1/traces into the store. Other paths answer 404, so it can sit alone on its port or behind a router. */
export function otlpHttpHandler(store: TraceStore, opts: { maxBodyBytes?: number } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_OTLP_BODY_BYTES;
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/traces') return answer(res, 404, { error: `no such OTLP endpoint ${path}: traces are received at POST /v1/traces` });
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST /v1/traces only' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      req.resume();
      return answer(res, 415, {
        error: `unsupported content type "${type || '(none)'}": this receiver takes OTLP/HTTP JSON only; set OTEL_EXPORTER_OTLP_PROTOCOL=http/json on the exporting service`,
      });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      // Connection: close so the unread body does not poison a kept-alive connection.
      res.setHeader('connection', 'close');
      req.resume();
      return answer(res, 413, { error: `body of ${declared} bytes exceeds the limit of ${maxBodyBytes}` });
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        res.setHeader('connection', 'close');
        answer(res, 413, { error: `body exceeds the limit of ${maxBodyBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (refused) return;
      let spans: StoredSpan[];
      try {
        spans = spansFromOtlpJson(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        const message = err instanceof SyntaxError ? `body is not JSON: ${err.message}` : (err as Error).message;
        return answer(res, 400, { error: message });
      }
      store.add(spans);
      // ExportTraceServiceResponse: an empty object means every span was accepted.
      answer(res, 200, {});
    });
  };
}
