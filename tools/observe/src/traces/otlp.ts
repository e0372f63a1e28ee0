import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoredSpan, TraceStore } from './store.js';

/**
 * OTLP/HTTP JSON (https://opentelemetry.io/docs/specs/otlp/#otlphttp) into the trace store.
 *
 * STAND-IN: the "trace" work on issue 13 owns this file (with protobuf as well); this minimal
 * version takes JSON only, so the viewer could be built and tested in parallel.
 */

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value?: AnyValue };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number | string; message?: string };
};
type OtlpBody = { resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function value(v: AnyValue | undefined): string | number | boolean {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return JSON.stringify(v);
}

const attributes = (kvs: KeyValue[] | undefined) => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]));
const nanosToMs = (n: string | number) => Number(BigInt(n) / 1000n) / 1000;

function status(code: number | string | undefined): StoredSpan['status'] {
  if (code === 2 || code === 'STATUS_CODE_ERROR') return 'error';
  if (code === 1 || code === 'STATUS_CODE_OK') return 'ok';
  return 'unset';
}

export function spansFromOtlpJson(body: unknown): StoredSpan[] {
  const out: StoredSpan[] = [];
  for (const rs of (body as OtlpBody).resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          service: String(resource['service.name'] ?? 'unknown'),
          kind: typeof s.kind === 'number' ? (KINDS[s.kind] ?? 'unspecified') : String(s.kind ?? 'unspecified').replace(/^SPAN_KIND_/, '').toLowerCase(),
          startMs: nanosToMs(s.startTimeUnixNano),
          endMs: nanosToMs(s.endTimeUnixNano),
          status: status(s.status?.code),
          ...(s.status?.message ? { statusMessage: s.status.message } : {}),
          attributes: attributes(s.attributes),
        });
      }
    }
  }
  return out;
}

/** POST /v1/traces with a JSON body. */
export function otlpHttpHandler(store: TraceStore): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/v1/traces') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"POST /v1/traces"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        store.add(spansFromOtlpJson(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  };
}
