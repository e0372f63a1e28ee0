/** Grafana-style relative time ranges (`now-1h` … `now`) and the query step they give. */

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export const RANGES = ['now-5m', 'now-15m', 'now-30m', 'now-1h', 'now-3h', 'now-6h', 'now-12h', 'now-24h', 'now-2d', 'now-7d'];
export const REFRESHES = ['off', '5s', '10s', '30s', '1m', '5m'];

/** Seconds since the epoch for `now`, `now-<n><unit>` or an epoch in milliseconds (Grafana URLs use both). */
export function resolveTime(text: string, nowS = Date.now() / 1000): number {
  if (text === 'now') return nowS;
  const rel = /^now-(\d+)([smhdw])$/.exec(text);
  if (rel) return nowS - Number(rel[1]) * (UNIT_S[rel[2] as string] as number);
  if (/^\d+$/.test(text)) return Number(text) / 1000;
  throw new Error(`time '${text}' is not now, now-<n>[smhdw] or epoch milliseconds`);
}

export const durationSeconds = (text: string) => (text === 'off' ? 0 : resolveTime(`now-${text}`, 0) * -1);

/** Roughly 300 points across the panel, never finer than the scrape interval (Grafana's min interval). */
export function stepFor(rangeS: number, scrapeS: number): number {
  return Math.max(scrapeS, Math.ceil(rangeS / 300));
}

/** Grafana's $__rate_interval: at least four scrapes, and one scrape more than the step. */
export const rateInterval = (stepS: number, scrapeS: number) => Math.max(stepS + scrapeS, 4 * scrapeS);
