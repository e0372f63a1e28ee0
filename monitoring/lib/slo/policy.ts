/**
 * The multi-window, multi-burn-rate alerting policy of the Google SRE Workbook, "Alerting on SLOs"
 * (https://sre.google/workbook/alerting-on-slos/, table 5-8): one place, used by the rule generator,
 * the dashboard, `npm run slo` and docs/monitoring.md.
 *
 * A burn rate is how fast the error budget goes: 1× spends exactly the budget over the SLO window,
 * 14.4× spends 2% of a 30-day budget in one hour. Each alert needs the long window (enough budget
 * spent to matter) AND the short window (still burning now, so the alert resolves minutes after a
 * fix instead of an hour later).
 */

export interface BurnRateAlert {
  /** page → critical (the on-call is woken), ticket → warning (handled in working hours). */
  readonly kind: 'page' | 'ticket';
  readonly severity: 'critical' | 'warning';
  readonly factor: number;
  readonly longWindow: SliWindow;
  readonly shortWindow: SliWindow;
  /**
   * Rides out one odd evaluation (a scrape gap, a restart's counter reset) without delaying much:
   * 2 minutes for pages (against an hour of budget at 14.4×), 15 for tickets (nobody acts faster).
   */
  readonly for: string;
}

/** Windows of the SLI recording rules that alerts use (the SLO's own window is added per SLO). */
export const ALERT_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SliWindow = (typeof ALERT_WINDOWS)[number];

export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { kind: 'page', severity: 'critical', factor: 14.4, longWindow: '1h', shortWindow: '5m', for: '2m' },
  { kind: 'page', severity: 'critical', factor: 6, longWindow: '6h', shortWindow: '30m', for: '2m' },
  { kind: 'ticket', severity: 'warning', factor: 3, longWindow: '1d', shortWindow: '2h', for: '15m' },
  { kind: 'ticket', severity: 'warning', factor: 1, longWindow: '3d', shortWindow: '6h', for: '15m' },
];

const HOURS: Record<string, number> = { '5m': 1 / 12, '30m': 0.5, '1h': 1, '2h': 2, '6h': 6, '1d': 24, '3d': 72, '28d': 672, '30d': 720 };

export function windowHours(window: string): number {
  const h = HOURS[window];
  if (h === undefined) throw new Error(`unknown window ${window}`);
  return h;
}

/** Share of the whole window's budget spent when an alert's long window first crosses its factor. */
export function budgetShareAtAlert(alert: BurnRateAlert, sloWindow: string): number {
  return (alert.factor * windowHours(alert.longWindow)) / windowHours(sloWindow);
}

/** Hours until the budget is gone at a burn rate. */
export function hoursToExhaustion(burnRate: number, sloWindow: string): number {
  return windowHours(sloWindow) / burnRate;
}
