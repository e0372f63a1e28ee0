import { stringify } from 'yaml';
import { GRAFANA_BASE_URL } from '../links.js';
import { ALERT_WINDOWS, BURN_RATE_ALERTS, budgetShareAtAlert, hoursToExhaustion, type BurnRateAlert } from './policy.js';
import type { Slo } from './schema.js';

/**
 * monitoring/slos.yaml → Prometheus rules. Names (kept stable: the drills, the dashboard and
 * `npm run slo` read them):
 *   slo:sli_error:ratio_rate<W>        bad events / all events over W, labels namespace, service, slo
 *   slo:events_bad:rate5m, slo:events:rate5m   the 5-minute rates the SLO-window ratio is summed from
 *   slo:objective:ratio, slo:error_budget:ratio   constants per service and slo
 *   slo:error_budget_remaining:ratio   1 - (bad ratio over the SLO window / error budget); negative when overspent
 * Alerts: SLOAvailabilityBudgetBurn, SLOLatencyBudgetBurn, one rule per window pair of the policy.
 */

export const SLO_DASHBOARD_UID = 'sre-slo';
export const SLO_RULES_FILE = 'slo.rules.yml';
export const SLO_ALERTS_FILE = 'slo.alerts.yml';

export function alertName(slo: Pick<Slo, 'slo'>): string {
  return slo.slo === 'availability' ? 'SLOAvailabilityBudgetBurn' : 'SLOLatencyBudgetBurn';
}

const by = 'sum by (namespace, service)';

/** A label matcher for the histogram bucket: Prometheus 3 writes le="1" as "1.0", 2.x keeps the exporter's "1". */
function leMatcher(threshold: number): string {
  return Number.isInteger(threshold) ? `le=~"${threshold}|${threshold}\\\\.0"` : `le="${threshold}"`;
}

function selectors(slo: Slo): { total: string; bad?: string; good?: string } {
  const base = `job="platform", service="${slo.service}"`;
  if (slo.slo === 'availability') {
    // 5xx only: a 4xx (bad input, not found, throttled, 499 client gone) is the client's doing.
    return { total: `http_requests_total{${base}}`, bad: `http_requests_total{${base}, status_code=~"5.."}` };
  }
  return {
    total: `http_request_duration_seconds_count{${base}}`,
    good: `http_request_duration_seconds_bucket{${base}, ${leMatcher(slo.thresholdSeconds as number)}}`,
  };
}

/** Bad events per second over `w`; 0 (not absent) while there is traffic but no bad event yet. */
function badRate(slo: Slo, w: string): string {
  const s = selectors(slo);
  const total = `${by} (rate(${s.total}[${w}]))`;
  if (s.bad) return `(\n  ${by} (rate(${s.bad}[${w}]))\n  or 0 * ${total}\n)`;
  return `(\n  ${total}\n  - ${by} (rate(${s.good}[${w}]))\n)`;
}

function ratio(slo: Slo, w: string): string {
  const s = selectors(slo);
  return `${badRate(slo, w)}\n/ ${by} (rate(${s.total}[${w}]))\n`;
}

const labels = (slo: Slo) => ({ service: slo.service, slo: slo.slo });
const sel = (slo: Slo) => `{service="${slo.service}", slo="${slo.slo}"}`;

function recordingGroup(slo: Slo) {
  const rules: Array<Record<string, unknown>> = [];
  for (const w of ALERT_WINDOWS) rules.push({ record: `slo:sli_error:ratio_rate${w}`, expr: ratio(slo, w), labels: labels(slo) });
  // The SLO window (30 days) from 5-minute rates rather than rate(...[30d]) on the raw series: one
  // series per SLO to read instead of every route × status × pod, and still a ratio of sums (events
  // weigh the same whatever the traffic at the time), unlike an average of ratios.
  rules.push({ record: 'slo:events_bad:rate5m', expr: `${badRate(slo, '5m')}\n`, labels: labels(slo) });
  rules.push({ record: 'slo:events:rate5m', expr: `${by} (rate(${selectors(slo).total}[5m]))\n`, labels: labels(slo) });
  rules.push({
    record: `slo:sli_error:ratio_rate${slo.window}`,
    expr: `sum_over_time(slo:events_bad:rate5m${sel(slo)}[${slo.window}])\n/ sum_over_time(slo:events:rate5m${sel(slo)}[${slo.window}])\n`,
    labels: labels(slo),
  });
  rules.push({ record: 'slo:objective:ratio', expr: `vector(${slo.objective})`, labels: labels(slo) });
  rules.push({ record: 'slo:error_budget:ratio', expr: `vector(${slo.errorBudget})`, labels: labels(slo) });
  rules.push({
    record: 'slo:error_budget_remaining:ratio',
    expr: `1 - slo:sli_error:ratio_rate${slo.window}${sel(slo)} / ${slo.errorBudget}`,
    labels: labels(slo),
  });
  return { name: `slo-${slo.service}-${slo.slo}`, rules };
}

function what(slo: Slo): string {
  return slo.slo === 'availability'
    ? `${slo.objectivePercent}% of requests without a 5xx`
    : `${slo.objectivePercent}% of requests answered within ${slo.thresholdSeconds} s`;
}

function alertRule(slo: Slo, a: BurnRateAlert, runbookBase: string) {
  const name = alertName(slo);
  const share = (budgetShareAtAlert(a, slo.window) * 100).toFixed(1).replace(/\.0$/, '');
  const exhaustion = hoursToExhaustion(a.factor, slo.window);
  const lasts = exhaustion >= 48 ? `${Math.round(exhaustion / 24)} days` : `${Math.round(exhaustion)} hours`;
  const burn = (w: string) => `slo:sli_error:ratio_rate${w}${sel(slo)} / ${slo.errorBudget} > ${a.factor}`;
  return {
    alert: name,
    // The value is the long window's burn rate (the left side of `and`): the description prints it.
    expr: `${burn(a.longWindow)}\nand on (namespace, service, slo)\n${burn(a.shortWindow)}\n`,
    for: a.for,
    labels: { severity: a.severity, service: slo.service, slo: slo.slo, long_window: a.longWindow, short_window: a.shortWindow },
    annotations: {
      summary: `{{ $labels.service }} burns its ${slo.slo} error budget {{ $value | printf "%.1f" }}× too fast (${a.kind}: over ${a.factor}× for ${a.longWindow} and ${a.shortWindow})`,
      description:
        `${slo.name}'s ${slo.slo} SLO (${what(slo)} over ${slo.window}, owner ${slo.owner}) has burned its error budget at ` +
        `{{ $value | printf "%.1f" }}× the sustainable rate over the last ${a.longWindow}, and is still burning over the last ${a.shortWindow}. ` +
        `Crossing ${a.factor}× over ${a.longWindow} means ${share}% of the ${slo.window} budget is spent; at ${a.factor}× the whole budget lasts ${lasts}.`,
      runbook_url: `${runbookBase}${name}.md`,
      dashboard_url: `${GRAFANA_BASE_URL}/d/${SLO_DASHBOARD_UID}/slo?var-service={{ $labels.service }}&var-slo=${slo.slo}`,
    },
  };
}

const HEADER = (what: string) =>
  `# Generated from monitoring/slos.yaml by \`npm run monitoring:generate\` — do not edit.\n` +
  `# ${what}.\n# Generator: monitoring/lib/slo/rules.ts; why: docs/monitoring.md#slos.\n` +
  '# yamllint disable rule:line-length\n';

export function sloRecordingRulesYaml(slos: readonly Slo[]): string {
  return (
    HEADER('SLI ratios per window, SLO constants and error budget remaining, one group per SLO') +
    stringify({ groups: slos.map(recordingGroup) }, { lineWidth: 0 })
  );
}

export function sloAlertRulesYaml(slos: readonly Slo[], runbookBase: string): string {
  const groups = slos.map((slo) => ({ name: `slo-${slo.service}-${slo.slo}-burn`, rules: BURN_RATE_ALERTS.map((a) => alertRule(slo, a, runbookBase)) }));
  return HEADER('Multi-window, multi-burn-rate alerts (Google SRE Workbook, "Alerting on SLOs"): pages and tickets') + stringify({ groups }, { lineWidth: 0 });
}
