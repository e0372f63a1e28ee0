import { ALERT_WINDOWS, BURN_RATE_ALERTS } from '../../lib/slo/policy.js';
import { SLO_DASHBOARD_UID } from '../../lib/slo/rules.js';
import type { Slo } from '../../lib/slo/schema.js';
import type { DashboardSpec, PanelSpec } from './builder.js';

/**
 * The SLO dashboard, generated from monitoring/slos.yaml (through the recording rules of
 * monitoring/rules/slo.rules.yml): objective, SLI and budget remaining over the window, burn rate per
 * window against the alert factors, and the events that burned the budget. The SLO alerts link here
 * with var-service and var-slo.
 */

const RATE = '$__rate_interval';
const pick = 'service=~"$service", slo=~"$slo"';

export function sloDashboard(slos: readonly Slo[]): DashboardSpec {
  // One window per SLO today (30d); several would each have their own series.
  const windowRatio = [...new Set(slos.map((s) => s.window))].map((w) => `slo:sli_error:ratio_rate${w}{${pick}}`).join(' or ');
  const factors = [...new Set(BURN_RATE_ALERTS.map((a) => a.factor))].sort((a, b) => a - b);
  const burnThresholds: Array<readonly [number | null, string]> = [
    [null, 'green'],
    ...factors.map((f, i) => [f, ['yellow', 'orange', 'red', 'dark-red'][i] ?? 'red'] as const),
  ];

  const slowByRoute: PanelSpec = {
    title: 'Slow requests by route (above the SLO threshold)',
    kind: 'timeseries',
    unit: 'reqps',
    width: 12,
    description: 'Requests slower than the latency SLO threshold of their service (monitoring/slos.yaml), per route: what burns the latency budget.',
    stack: true,
    queries: slos
      .filter((s) => s.slo === 'latency')
      .map((s) => {
        const sel = `job="platform", service="${s.service}", service=~"$service"`;
        const le = Number.isInteger(s.thresholdSeconds) ? `le=~"${s.thresholdSeconds}|${s.thresholdSeconds}\\\\.0"` : `le="${s.thresholdSeconds}"`;
        return {
          expr: `sum by (service, route) (rate(http_request_duration_seconds_count{${sel}}[${RATE}])) - sum by (service, route) (rate(http_request_duration_seconds_bucket{${sel}, ${le}}[${RATE}]))`,
          legend: `{{service}} {{route}} > ${s.thresholdSeconds} s`,
        };
      }),
  };

  return {
    uid: SLO_DASHBOARD_UID,
    title: 'SLOs',
    description:
      'Service level objectives from monitoring/slos.yaml: objective, SLI and error budget remaining over the window, burn rate per alert window, and the failed or slow requests that burned it.',
    tags: ['sre-platform', 'slo'],
    source: 'monitoring/grafana/src/slo-dashboard.ts (from monitoring/slos.yaml)',
    timeFrom: 'now-7d',
    variables: [
      { name: 'service', label: 'Service', metric: 'slo:objective:ratio', labelName: 'service' },
      { name: 'slo', label: 'SLO', metric: 'slo:objective:ratio', labelName: 'slo' },
    ],
    rows: [
      {
        title: 'Objectives over their window',
        panels: [
          {
            title: 'Objective, SLI and budget remaining',
            kind: 'table',
            width: 24,
            mergeTable: true,
            description:
              'SLI = share of good events over the SLO window (30 days, or what Prometheus holds of it). Budget remaining = 1 - bad share / (1 - objective); negative when overspent.',
            overrides: [
              {
                matcher: { id: 'byName', options: 'Value #A' },
                properties: [
                  { id: 'displayName', value: 'objective' },
                  { id: 'unit', value: 'percentunit' },
                  { id: 'decimals', value: 2 },
                ],
              },
              {
                matcher: { id: 'byName', options: 'Value #B' },
                properties: [
                  { id: 'displayName', value: 'SLI (window)' },
                  { id: 'unit', value: 'percentunit' },
                  { id: 'decimals', value: 3 },
                ],
              },
              {
                matcher: { id: 'byName', options: 'Value #C' },
                properties: [
                  { id: 'displayName', value: 'budget remaining' },
                  { id: 'unit', value: 'percentunit' },
                  { id: 'decimals', value: 1 },
                ],
              },
              {
                matcher: { id: 'byName', options: 'Value #D' },
                properties: [
                  { id: 'displayName', value: 'burn rate (1h)' },
                  { id: 'decimals', value: 1 },
                ],
              },
            ],
            queries: [
              { expr: `max by (service, slo) (slo:objective:ratio{${pick}})` },
              { expr: `max by (service, slo) (1 - (${windowRatio}))` },
              { expr: `min by (service, slo) (slo:error_budget_remaining:ratio{${pick}})` },
              { expr: `max by (service, slo) (slo:sli_error:ratio_rate1h{${pick}} / on (service, slo) group_left slo:error_budget:ratio{${pick}})` },
            ],
          },
          {
            title: 'Error budget remaining',
            kind: 'timeseries',
            unit: 'percentunit',
            width: 12,
            thresholds: [
              [null, 'red'],
              [0, 'orange'],
              [0.25, 'green'],
            ],
            queries: [{ expr: `slo:error_budget_remaining:ratio{${pick}}`, legend: '{{service}} {{slo}}' }],
          },
          {
            title: 'SLI over the window against the objective',
            kind: 'timeseries',
            unit: 'percentunit',
            width: 12,
            queries: [
              { expr: `1 - (${windowRatio})`, legend: '{{service}} {{slo}} SLI' },
              { expr: `slo:objective:ratio{${pick}}`, legend: '{{service}} {{slo}} objective' },
            ],
          },
        ],
      },
      {
        title: 'Burn rate (1 = the budget lasts exactly the window; pages at 14.4 over 1h and 6 over 6h, tickets at 3 over 1d and 1 over 3d)',
        panels: [
          {
            title: 'Burn rate per window',
            kind: 'timeseries',
            width: 16,
            thresholds: burnThresholds,
            queries: ALERT_WINDOWS.map((w) => ({
              expr: `slo:sli_error:ratio_rate${w}{${pick}} / on (service, slo) group_left slo:error_budget:ratio{${pick}}`,
              legend: `{{service}} {{slo}} ${w}`,
            })),
          },
          {
            title: 'SLO alerts',
            kind: 'table',
            width: 8,
            queries: [{ expr: `sum by (alertname, alertstate, service, slo, severity, long_window) (ALERTS{alertname=~"SLO.*BudgetBurn", ${pick}})` }],
          },
        ],
      },
      {
        title: 'What burned it',
        panels: [
          {
            title: '5xx by route and status',
            kind: 'timeseries',
            unit: 'reqps',
            width: 12,
            stack: true,
            description: 'Failed requests (5xx), the bad events of the availability SLOs.',
            queries: [
              {
                expr: `sum by (service, route, status_code) (rate(http_requests_total{job="platform", service=~"$service", status_code=~"5.."}[${RATE}]))`,
                legend: '{{service}} {{route}} {{status_code}}',
              },
            ],
          },
          slowByRoute,
          {
            title: 'Bad events share now (5m) per SLO',
            kind: 'timeseries',
            unit: 'percentunit',
            width: 24,
            queries: [{ expr: `slo:sli_error:ratio_rate5m{${pick}}`, legend: '{{service}} {{slo}}' }],
          },
        ],
      },
    ],
  };
}
