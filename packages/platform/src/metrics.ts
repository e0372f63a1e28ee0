import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** Seconds; covers fast JSON routes and slow uploads. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface PlatformMetrics {
  readonly registry: Registry;
  readonly httpRequestsTotal: Counter<'service' | 'method' | 'route' | 'status_code'>;
  readonly httpRequestDuration: Histogram<'service' | 'method' | 'route' | 'status_code'>;
  readonly healthCheckStatus: Gauge<'check'>;
}

/** One registry per service instance (no global state), with the metrics every service exports. */
export function createMetrics(options: { collectProcessMetrics?: boolean } = {}): PlatformMetrics {
  const registry = new Registry();
  if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template.',
    labelNames: ['service', 'method', 'route', 'status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    // Each bucket keeps the trace id of its latest request (OpenMetrics exemplars): a point on a
    // latency panel links to a trace that landed there (docs/tracing.md).
    enableExemplars: true,
    // prom-client refuses exemplars on a registry whose default format is the Prometheus text one,
    // yet that format must stay the default (scrapers without OpenMetrics, tests reading the text).
    // Registered by hand: the text format leaves exemplars out, /metrics serves OpenMetrics on request.
    registers: [],
  });
  registry.registerMetric(httpRequestDuration);
  return {
    registry,
    httpRequestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by route template and status code.',
      labelNames: ['service', 'method', 'route', 'status_code'],
      registers: [registry],
    }),
    httpRequestDuration,
    healthCheckStatus: new Gauge({
      name: 'service_health_check_status',
      help: 'Result of each readiness check: 1 ok, 0 failing.',
      labelNames: ['check'],
      registers: [registry],
    }),
  };
}
