/**
 * Where an upload's time goes inside the Images service, from its own Prometheus histograms
 * (`images_processing_duration_seconds`, `images_storage_operation_duration_seconds`): the mean per
 * operation over a burst, as the difference of two scrapes of /metrics.
 */

type Sums = Map<string, { sum: number; count: number }>;

const SERIES = /^(images_processing_duration_seconds|images_storage_operation_duration_seconds)_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/;

export async function scrape(metricsUrl: string): Promise<Sums> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const sums: Sums = new Map();
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line);
    if (!m) continue;
    const operation = /operation="([^"]+)"/.exec(m[3]!)?.[1] ?? '?';
    const key = `${m[1] === 'images_processing_duration_seconds' ? 'processing' : 'storage'} ${operation}`;
    const entry = sums.get(key) ?? { sum: 0, count: 0 };
    if (m[2] === 'sum') entry.sum += Number(m[4]);
    else entry.count += Number(m[4]);
    sums.set(key, entry);
  }
  return sums;
}

/** Mean ms per operation between two scrapes, e.g. `processing original 3.1 ms, storage put 12 ms`. */
export function meanMsBetween(before: Sums, after: Sums): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, { sum, count }] of after) {
    const prior = before.get(key) ?? { sum: 0, count: 0 };
    if (count > prior.count) result[key] = ((sum - prior.sum) / (count - prior.count)) * 1000;
  }
  return result;
}

export const describeMeans = (means: Record<string, number>): string =>
  Object.entries(means)
    .map(([k, ms]) => `${k} ${ms.toFixed(1)} ms`)
    .join(', ');
