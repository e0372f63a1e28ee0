/**
 * Small clients for the HTTP APIs a drill reads: Prometheus (/api/v1/query, /api/v1/alerts),
 * Alertmanager (/api/v2/alerts) and the local Slack sink of `npm run observe` (/notifications).
 * All requests carry a timeout so a stuck endpoint never stalls a drill.
 */

const TIMEOUT_MS = 5000;

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text().catch(() => '')}`.trim());
  return (await res.json()) as T;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** Evaluates an instant query; an empty array means "no series" (the condition does not hold). */
export async function promQuery(prometheusUrl: string, promql: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', promql);
  const body = await getJson<{
    status: string;
    data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    error?: string;
  }>(url.toString());
  if (body.status !== 'success') throw new Error(`query failed: ${body.error ?? body.status}`);
  if (body.data.resultType === 'scalar') {
    const [, v] = body.data.result as unknown as [number, string];
    return [{ metric: {}, value: Number(v) }];
  }
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt?: string;
}

/** Prometheus' own view: pending (inside `for:`) and firing alerts. */
export async function promAlerts(prometheusUrl: string): Promise<PromAlert[]> {
  const body = await getJson<{ data: { alerts: PromAlert[] } }>(new URL('/api/v1/alerts', prometheusUrl).toString());
  return body.data.alerts;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
  receivers: Array<{ name: string }>;
}

export async function amAlerts(alertmanagerUrl: string): Promise<AmAlert[]> {
  return getJson<AmAlert[]>(new URL('/api/v2/alerts', alertmanagerUrl).toString());
}

export async function ready(url: string, path: string): Promise<boolean> {
  try {
    const res = await fetch(new URL(path, url), { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return res.ok;
  } catch {
    return false;
  }
}

/** One message as the sink stored it: the Slack payload plus when it arrived. */
export interface SinkNotification {
  receivedAt: string;
  payload: SlackPayload;
}

export interface SlackPayload {
  channel?: string;
  username?: string;
  text?: string;
  attachments?: Array<{
    title?: string;
    title_link?: string;
    text?: string;
    fallback?: string;
    color?: string;
    fields?: Array<{ title?: string; value?: string }>;
    actions?: Array<{ text?: string; url?: string }>;
  }>;
  blocks?: unknown[];
}

export async function sinkNotifications(sinkUrl: string): Promise<SinkNotification[]> {
  return getJson<SinkNotification[]>(new URL('/notifications', sinkUrl).toString());
}

/** All human-readable text of a Slack message (text, attachments, fields, buttons), for matching. */
export function slackText(payload: SlackPayload): string {
  const parts: string[] = [];
  if (payload.text) parts.push(payload.text);
  for (const a of payload.attachments ?? []) {
    for (const v of [a.title, a.title_link, a.text, a.fallback]) if (v) parts.push(v);
    for (const f of a.fields ?? []) for (const v of [f.title, f.value]) if (v) parts.push(v);
    for (const b of a.actions ?? []) for (const v of [b.text, b.url]) if (v) parts.push(v);
  }
  if (payload.blocks) parts.push(JSON.stringify(payload.blocks));
  return parts.join('\n');
}

/** Links to runbooks (docs/runbooks/<Alert>.md) found in a message. */
export function runbookLinks(text: string): string[] {
  return [...new Set(text.match(/\bhttps?:\/\/[^\s<>|)"]*runbooks\/[A-Za-z0-9_-]+\.md\b/g) ?? [])];
}

/** Whether a firing alert carries these labels. */
export function labelsMatch(labels: Record<string, string>, wanted: Readonly<Record<string, string>> | undefined): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}
