/**
 * One upload as the services' OTLP exporters would send it (OTLP/HTTP JSON): gateway server span →
 * images server span → a database client span, with W3C ids. `failing` marks the images hop (and
 * so the gateway's) as errors, the way a failed upstream is recorded.
 */

const hex = (seed: string, length: number) => seed.repeat(length).slice(0, length);
const nanos = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

export function otlpTrace(options: { traceId: string; durationMs: number; failing: boolean; startMs?: number }): unknown {
  const start = options.startMs ?? Date.now() - options.durationMs - 10;
  const end = start + options.durationMs;
  const gateway = hex('1', 16);
  const images = hex('2', 16);
  const db = hex('3', 16);
  const error = { code: 2, message: 'upstream images answered 503' };
  const resource = (service: string) => ({ attributes: [str('service.name', service)] });
  return {
    resourceSpans: [
      {
        resource: resource('gateway'),
        scopeSpans: [
          {
            spans: [
              {
                traceId: options.traceId,
                spanId: gateway,
                name: 'POST /api/images',
                kind: 2,
                startTimeUnixNano: nanos(start),
                endTimeUnixNano: nanos(end),
                attributes: [str('http.route', '/api/images'), { key: 'http.response.status_code', value: { intValue: options.failing ? '503' : '201' } }],
                status: options.failing ? error : { code: 0 },
              },
            ],
          },
        ],
      },
      {
        resource: resource('images'),
        scopeSpans: [
          {
            spans: [
              {
                traceId: options.traceId,
                spanId: images,
                parentSpanId: gateway,
                name: 'POST /images',
                kind: 2,
                startTimeUnixNano: nanos(start + 1),
                endTimeUnixNano: nanos(end - 1),
                attributes: [str('http.route', '/images')],
                status: options.failing ? { code: 2, message: 'database unavailable' } : { code: 0 },
              },
              {
                traceId: options.traceId,
                spanId: db,
                parentSpanId: images,
                name: 'pg.query INSERT',
                kind: 3,
                startTimeUnixNano: nanos(start + 2),
                endTimeUnixNano: nanos(start + 3),
                attributes: [str('db.system', 'postgresql')],
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };
}
