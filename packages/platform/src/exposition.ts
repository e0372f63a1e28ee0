import { Registry } from 'prom-client';

/**
 * /metrics content negotiation. Prometheus asks for OpenMetrics first (its scrape Accept header),
 * and only OpenMetrics carries exemplars, the trace ids on latency buckets (docs/tracing.md). Other
 * scrapers and people with curl keep the Prometheus text format they have always had.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return type === 'application/openmetrics-text' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** What prom-client's registry holds at run time (its types describe only the JSON form). */
interface SerializableMetric {
  name: string;
  type?: unknown;
  get(): Promise<{ name: string }>;
}
interface SerializingRegistry {
  getMetricsAsString(metric: Pick<SerializableMetric, 'get'>): Promise<string>;
}

/**
 * The registry in OpenMetrics 1.0, serialized by prom-client through a view of the registry that
 * only overrides the format (no second registry, no race between concurrent scrapes). Not through
 * `metrics()`: in OpenMetrics mode it renames each counter in place (`http_requests_total` becomes
 * `http_requests` for good), which would break every later text-format scrape. Each counter is
 * handed over under its family name instead, and prom-client writes the samples with `_total`, the
 * series name every rule uses (our counters all end in `_total`).
 */
export async function openMetricsText(registry: Registry): Promise<string> {
  const view = Object.create(registry, { _contentType: { value: Registry.OPENMETRICS_CONTENT_TYPE } }) as SerializingRegistry;
  const families = await Promise.all(
    (registry.getMetricsAsArray() as unknown as SerializableMetric[]).map((metric) => {
      if (metric.type !== 'counter') return view.getMetricsAsString(metric);
      return view.getMetricsAsString({ get: async () => ({ ...(await metric.get()), name: metric.name.replace(/_total$/, '') }) });
    }),
  );
  return `${families.join('\n')}\n# EOF\n`;
}
