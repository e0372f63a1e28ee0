/** Grafana's units and legend templates, for the units and legends our dashboards use. */

import type { PromSeries } from './api.js';

/** Series of only NaN (a quantile of no requests) or ±Inf draw nothing: for the panel that is no data. */
export function hasFiniteValues(series: readonly PromSeries[]): boolean {
  return series.some((s) => (s.values ?? (s.value ? [s.value] : [])).some(([, v]) => Number.isFinite(Number(v))));
}

function si(v: number, suffix = ''): string {
  const abs = Math.abs(v);
  for (const [limit, prefix] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const)
    if (abs >= limit) return `${trim(v / limit)}${prefix}${suffix}`;
  return `${trim(v)}${suffix}`;
}

function trim(v: number, decimals?: number): string {
  if (decimals !== undefined) return v.toFixed(decimals);
  const abs = Math.abs(v);
  return String(Number(v.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3)));
}

export function formatValue(v: number | null | undefined, unit = 'short', decimals?: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'percentunit':
      return `${trim(v * 100, decimals)}%`;
    case 's':
      if (v !== 0 && Math.abs(v) < 1) return `${trim(v * 1000, decimals)} ms`;
      return `${trim(v, decimals)} s`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      let x = v;
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return `${trim(x, decimals)} ${units[i]}`;
    }
    case 'reqps':
      return si(v, ' req/s');
    case 'ops':
      return si(v, ' ops/s');
    case 'cores':
      return `${trim(v, decimals)} cores`;
    default:
      return decimals !== undefined ? v.toFixed(decimals) : si(v);
  }
}

/** Grafana's legendFormat: `{{label}}` replaced; `__auto` (or none) is the series' own labels. */
export function legendName(format: string | undefined, metric: Record<string, string>, expr: string): string {
  if (!format || format === '__auto') {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    if (labels.length === 0) return metric.__name__ ?? expr;
    return `${metric.__name__ ?? ''}{${labels.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
  }
  return format.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_all, name: string) => metric[name] ?? '');
}

/** A colour per series, stable by index (Grafana's classic palette). */
const PALETTE = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0', '#508642', '#cca300', '#447ebc', '#c15c17'];
export const seriesColor = (i: number) => PALETTE[i % PALETTE.length] as string;

const NAMED: Record<string, string> = { green: '#56a64b', red: '#e02f44', orange: '#ff9830', purple: '#a352cc', yellow: '#f2cc0c', blue: '#3274d9' };
export const namedColor = (c: string) => NAMED[c] ?? c;
