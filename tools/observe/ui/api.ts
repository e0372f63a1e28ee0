/** The browser side's only network calls: same origin (the page's CSP allows nothing else). */

export interface PromSeries {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  value?: [number, string];
}

export interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${path}`);
  return body;
}

async function prom<T>(endpoint: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`/api/prom/api/v1/${endpoint}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(body.error ?? `Prometheus answered ${res.status}`);
  return body.data;
}

export const queryRange = async (query: string, start: number, end: number, step: number) =>
  (await prom<{ result: PromSeries[] }>('query_range', { query, start: String(start), end: String(end), step: String(step) })).result;

export const queryInstant = async (query: string, time: number) => {
  const data = await prom<{ resultType: string; result: PromSeries[] | [number, string] }>('query', { query, time: String(time) });
  // A scalar result (e.g. a literal) becomes one unlabeled series.
  return data.resultType === 'scalar' ? [{ metric: {}, value: data.result as [number, string] }] : (data.result as PromSeries[]);
};

export const labelValues = (label: string, match: string, start: number, end: number) =>
  prom<string[]>(`label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(start), end: String(end) });

export const queryExemplars = async (query: string, start: number, end: number) =>
  (
    await prom<Array<{ seriesLabels: Record<string, string>; exemplars: Exemplar[] }>>('query_exemplars', { query, start: String(start), end: String(end) })
  ).flatMap((s) => s.exemplars);
