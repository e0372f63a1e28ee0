import { ALERT_WINDOWS } from './policy.js';
import type { Slo } from './schema.js';

/**
 * What `npm run slo` shows: each SLO's SLI, error budget remaining and burn rates, read from a live
 * Prometheus that loads monitoring/rules/slo.rules.yml (the cluster's, or `npm run observe`'s).
 */

export const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:9090';

export interface SloStatus {
  readonly name: string;
  readonly service: string;
  readonly slo: string;
  /** Kubernetes namespace (app), or `local` for `npm run observe`; undefined without data. */
  readonly namespace?: string;
  readonly objective: number;
  readonly window: string;
  /** Share of good events over the window; undefined without traffic. */
  readonly sli?: number;
  readonly errorBudgetRemaining?: number;
  /** Burn rate per window (bad share / error budget); undefined without traffic in the window. */
  readonly burnRates: Record<string, number | undefined>;
  /** SLO alerts of this SLO, e.g. "page 1h/5m (firing)". */
  readonly alerts: readonly string[];
}

export class PrometheusUnreachableError extends Error {}

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function query(prometheusUrl: string, promql: string): Promise<Vector> {
  const url = `${prometheusUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new PrometheusUnreachableError(
      `cannot reach Prometheus at ${prometheusUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}): start it with \`npm run observe\` beside \`npm start\`, ` +
        'or pass --prometheus URL (e.g. `kubectl -n monitoring port-forward svc/prometheus 9090`)',
    );
  }
  const body = (await res.json().catch(() => undefined)) as { status?: string; error?: string; data?: { result: Vector } } | undefined;
  if (!res.ok || body?.status !== 'success' || !body.data) {
    throw new PrometheusUnreachableError(`Prometheus at ${prometheusUrl} answered ${res.status} to ${promql}: ${body?.error ?? 'not the Prometheus HTTP API'}`);
  }
  return body.data.result;
}

const key = (m: Record<string, string>) => `${m.namespace ?? ''}|${m.service}|${m.slo}`;
const num = (v: string) => (v === 'NaN' ? undefined : Number(v));

export async function fetchSloStatus(prometheusUrl: string, slos: readonly Slo[]): Promise<SloStatus[]> {
  const windows = [...new Set(slos.map((s) => s.window))];
  // One query first, so an unreachable or wrong URL gives one clear error rather than a race of seven.
  const objectives = await query(prometheusUrl, 'slo:objective:ratio');
  const [remaining, alerts, ...ratios] = await Promise.all([
    query(prometheusUrl, 'slo:error_budget_remaining:ratio'),
    query(prometheusUrl, 'ALERTS{alertname=~"SLO(Availability|Latency)BudgetBurn"}'),
    ...[...ALERT_WINDOWS, ...windows].map((w) => query(prometheusUrl, `slo:sli_error:ratio_rate${w}`)),
  ]);
  if (objectives.length === 0) {
    throw new PrometheusUnreachableError(
      `Prometheus at ${prometheusUrl} has no SLO rules (slo:objective:ratio is empty): it must load monitoring/rules/slo.rules.yml (npm run observe and k8s/monitoring do)`,
    );
  }
  const ratioByWindow = new Map([...ALERT_WINDOWS, ...windows].map((w, i) => [w, new Map((ratios[i] ?? []).map((s) => [key(s.metric), num(s.value[1])]))]));
  const remainingByKey = new Map(remaining.map((s) => [key(s.metric), num(s.value[1])]));
  const namespaces = [...new Set([...ratios.flat(), ...remaining].map((s) => s.metric.namespace ?? ''))].sort();

  const rows: SloStatus[] = [];
  for (const slo of slos) {
    const seen = namespaces.filter((ns) => [...ratioByWindow.values()].some((m) => m.has(`${ns}|${slo.service}|${slo.slo}`)));
    for (const ns of seen.length > 0 ? seen : [undefined]) {
      const k = `${ns ?? ''}|${slo.service}|${slo.slo}`;
      const windowRatio = ratioByWindow.get(slo.window)?.get(k);
      rows.push({
        name: slo.name,
        service: slo.service,
        slo: slo.slo,
        ...(ns !== undefined ? { namespace: ns || undefined } : {}),
        objective: slo.objective,
        window: slo.window,
        ...(windowRatio !== undefined ? { sli: 1 - windowRatio } : {}),
        ...(remainingByKey.get(k) !== undefined ? { errorBudgetRemaining: remainingByKey.get(k) } : {}),
        burnRates: Object.fromEntries(
          ALERT_WINDOWS.map((w) => {
            const r = ratioByWindow.get(w)?.get(k);
            return [w, r === undefined ? undefined : r / slo.errorBudget];
          }),
        ),
        alerts: alerts
          .filter((a) => key(a.metric) === k)
          .map((a) => `${a.metric.severity === 'critical' ? 'page' : 'ticket'} ${a.metric.long_window}/${a.metric.short_window} (${a.metric.alertstate})`)
          .sort(),
      });
    }
  }
  return rows;
}

const pct = (v: number | undefined, digits: number) => (v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
const burn = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** A plain-text table, one row per SLO (and namespace). */
export function formatSloTable(rows: readonly SloStatus[]): string {
  const header = ['SERVICE', 'SLO', 'OBJECTIVE', 'WINDOW', 'SLI', 'BUDGET LEFT', ...ALERT_WINDOWS.map((w) => `BURN ${w}`), 'ALERTS'];
  const body = rows.map((r) => [
    `${r.name} (${r.service}${r.namespace ? `, ${r.namespace}` : ''})`,
    r.slo,
    pct(r.objective, r.objective >= 0.999 ? 1 : 0),
    r.window,
    pct(r.sli, 3),
    pct(r.errorBudgetRemaining, 1),
    ...ALERT_WINDOWS.map((w) => burn(r.burnRates[w])),
    r.alerts.length ? r.alerts.join(', ') : r.sli === undefined ? 'no traffic' : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i < cells.length - 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}
