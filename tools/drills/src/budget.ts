import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MONITORING_DIR, parseDuration } from '@sre/observe/config';
import { promQuery } from './observability.js';
import { fmtDuration } from './bounds/derive.js';

/**
 * How much of an SLO's error budget a drill consumed (error-budget-burn, issue 12), from the SLO
 * recording rules (monitoring/slos.yaml → slo.rules.yml):
 *
 *   consumed = average SLI error ratio over the drill ÷ error budget × drill span ÷ SLO window
 *
 * i.e. the share of the window's allowed bad requests the drill spent, assuming steady traffic (the
 * SRE Workbook's arithmetic: 14.4× for 1 hour spends 2 % of a 30-day budget). At time scale N the
 * rule windows are N times shorter, so the drill stands for N times its span. Prometheus' own
 * slo:error_budget_remaining:ratio is shown beside it: it covers only the data this Prometheus holds
 * (a fresh local stack holds minutes, not 30 days).
 */

export interface SloRef {
  readonly service: string;
  readonly slo: string;
}

export interface BudgetMeasurement extends SloRef {
  readonly spanMs: number;
  readonly timeScale: number;
  readonly windowMs: number;
  readonly errorBudget?: number;
  readonly averageErrorRatio?: number;
  readonly consumedRatio?: number;
  readonly remainingAtStart?: number;
  readonly remainingAtEnd?: number;
  /** The arithmetic, in words and numbers, for the report. */
  readonly derivation: string;
}

/** The SLO's window from monitoring/slos.yaml (30 days when the file or the SLO is not there). */
export function sloWindowMs(ref: SloRef, monitoringDir = MONITORING_DIR): number {
  const file = join(monitoringDir, 'slos.yaml');
  if (!existsSync(file)) return parseDuration('30d');
  const doc = parse(readFileSync(file, 'utf8')) as { services?: Array<{ service?: string; slos?: Record<string, { window?: string }> }> } | null;
  const window = doc?.services?.find((s) => s.service === ref.service)?.slos?.[ref.slo]?.window;
  return parseDuration(window ?? '30d');
}

const selector = (ref: SloRef) => `{service="${ref.service}",slo="${ref.slo}"}`;

async function scalar(prometheusUrl: string, promql: string): Promise<number | undefined> {
  const result = await promQuery(prometheusUrl, promql).catch(() => []);
  const v = result[0]?.value;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export function budgetRemaining(prometheusUrl: string, ref: SloRef): Promise<number | undefined> {
  return scalar(prometheusUrl, `slo:error_budget_remaining:ratio${selector(ref)}`);
}

/** The pure arithmetic (unit-tested): undefined inputs give an explanation instead of a number. */
export function budgetConsumed(input: { averageErrorRatio?: number; errorBudget?: number; spanMs: number; windowMs: number; timeScale: number }): {
  consumedRatio?: number;
  derivation: string;
} {
  const { averageErrorRatio: avg, errorBudget: budget, spanMs, windowMs, timeScale } = input;
  if (avg === undefined || budget === undefined || budget <= 0)
    return { derivation: 'no SLI data (slo:sli_error:ratio_rate5m or slo:objective:ratio missing)' };
  // Whole seconds: the span is measured by polling, milliseconds would only be noise.
  const represented = Math.round((spanMs * timeScale) / 1000) * 1000;
  const consumedRatio = (avg / budget) * (represented / windowMs);
  const scaleNote = timeScale === 1 ? '' : ` (${fmtDuration(Math.round(spanMs / 1000) * 1000)} at time scale ${timeScale})`;
  return {
    consumedRatio,
    derivation: `${pct(avg)} average error ratio ÷ ${pct(budget)} budget × ${fmtDuration(represented)}${scaleNote} ÷ ${fmtDuration(windowMs)} window = ${pct(consumedRatio)} of the budget`,
  };
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(v < 0.001 ? 4 : v < 0.1 ? 3 : 1).replace(/\.?0+$/, '')} %`;
}

export async function measureBudget(
  prometheusUrl: string,
  ref: SloRef,
  spanMs: number,
  timeScale: number,
  remainingAtStart: number | undefined,
): Promise<BudgetMeasurement> {
  const seconds = Math.max(1, Math.round(spanMs / 1000));
  const [averageErrorRatio, objective, remainingAtEnd] = await Promise.all([
    scalar(prometheusUrl, `avg_over_time(slo:sli_error:ratio_rate5m${selector(ref)}[${seconds}s])`),
    scalar(prometheusUrl, `slo:objective:ratio${selector(ref)}`),
    budgetRemaining(prometheusUrl, ref),
  ]);
  const errorBudget = objective === undefined ? undefined : 1 - objective;
  const windowMs = sloWindowMs(ref);
  const { consumedRatio, derivation } = budgetConsumed({
    ...(averageErrorRatio !== undefined ? { averageErrorRatio } : {}),
    ...(errorBudget !== undefined ? { errorBudget } : {}),
    spanMs,
    windowMs,
    timeScale,
  });
  return {
    ...ref,
    spanMs,
    timeScale,
    windowMs,
    ...(errorBudget !== undefined ? { errorBudget } : {}),
    ...(averageErrorRatio !== undefined ? { averageErrorRatio } : {}),
    ...(consumedRatio !== undefined ? { consumedRatio } : {}),
    ...(remainingAtStart !== undefined ? { remainingAtStart } : {}),
    ...(remainingAtEnd !== undefined ? { remainingAtEnd } : {}),
    derivation,
  };
}

/** The report's lines about the budget (Markdown and HTML share them). */
export function budgetLines(b: BudgetMeasurement): string[] {
  return [
    `SLO ${b.service}/${b.slo}: the drill consumed ${b.consumedRatio === undefined ? 'an unknown share' : `**${pct(b.consumedRatio)}**`} of its ${fmtDuration(b.windowMs)} error budget.`,
    `How: ${b.derivation}.`,
    `Prometheus' slo:error_budget_remaining:ratio went from ${b.remainingAtStart === undefined ? 'n/a' : pct(b.remainingAtStart)} at injection to ${b.remainingAtEnd === undefined ? 'n/a' : pct(b.remainingAtEnd)} at rollback (over the data this Prometheus holds, not a full window).`,
  ];
}
