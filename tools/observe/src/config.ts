import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { renderLocalPrometheusConfig } from '@sre/monitoring/local';

/**
 * Generates the local Prometheus and Alertmanager configuration from the single source in
 * monitoring/: the same rule files (monitoring/rules/*.yml) and the same Alertmanager routing
 * (monitoring/alertmanager/), with only what must differ on one machine changed:
 *  - scrape targets: static, the launcher's management ports, with the labels the rules expect
 *    (job="platform", service, pod, instance — see monitoring/rules/services.alerts.yml);
 *  - Slack: api_url → SLACK_WEBHOOK_URL when set, else the local Slack-compatible sink;
 *  - optional time scale (drills and their tests): every `for:`, range selector and Alertmanager
 *    timer divided by the scale, in a generated copy of the rules (see docs/drills.md for the
 *    trade-off). Scale 1 (the default of `npm run observe`) loads monitoring/rules unchanged.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const MONITORING_DIR = join(REPO_ROOT, 'monitoring');

export interface ScrapeTarget {
  /** host:port of a management listener */
  address: string;
  service: string;
  /** the instance name shown in alerts (a pod name in the cluster; service-N locally) */
  pod: string;
}

export interface GenerateOptions {
  targets: readonly ScrapeTarget[];
  alertmanagerAddress: string;
  prometheusAddress: string;
  /** Slack webhook URL the generated Alertmanager posts to. */
  slackUrl: string;
  /** Directory the generated files go to (rules copies are written there when scaled). */
  outDir: string;
  scrapeIntervalSeconds: number;
  /** Divide every `for:`, range and Alertmanager timer by this (1 = unchanged). */
  timeScale: number;
  monitoringDir?: string;
}

// ---- durations -----------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

export function parseDuration(text: string): number {
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let total = 0;
  let consumed = '';
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed += m[0];
  }
  if (consumed !== text || text === '') throw new Error(`not a Prometheus duration: '${text}'`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/** Scales a duration down, never below `floorMs` (0 stays 0). */
export function scaleDuration(text: string, scale: number, floorMs: number): string {
  const ms = parseDuration(text);
  if (ms === 0 || scale === 1) return text;
  return formatDuration(Math.max(floorMs, Math.round(ms / scale / 1000) * 1000));
}

/** Scales the range selectors of a PromQL expression: [2m] → [12s]; subqueries [5m:1m] too. */
export function scaleExprRanges(expr: string, scale: number, floorMs: number): string {
  if (scale === 1) return expr;
  return expr.replace(/\[((?:\d+(?:ms|s|m|h|d|w|y))+)(?::((?:\d+(?:ms|s|m|h|d|w|y))+))?\]/g, (_all, range: string, step?: string) => {
    const r = scaleDuration(range, scale, floorMs);
    return step ? `[${r}:${scaleDuration(step, scale, 1000)}]` : `[${r}]`;
  });
}

// ---- rules ---------------------------------------------------------------------------------------

export function ruleFiles(monitoringDir = MONITORING_DIR): string[] {
  const dir = join(monitoringDir, 'rules');
  if (!existsSync(dir)) throw new Error(`no rules in ${dir}: monitoring/rules is the single source of alert rules`);
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<{ alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
}

/** A time-scaled copy of one rule file, with its provenance header. */
export function scaledRules(file: string, scale: number, scrapeIntervalSeconds: number): string {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] };
  // A range must hold several samples for rate() to work: at least 4 scrape intervals.
  const rangeFloor = Math.max(4, 4 * scrapeIntervalSeconds) * 1000;
  for (const group of doc.groups) {
    if (group.interval) group.interval = scaleDuration(group.interval, scale, scrapeIntervalSeconds * 1000);
    for (const rule of group.rules) {
      rule.expr = scaleExprRanges(rule.expr, scale, rangeFloor);
      if (rule.for) rule.for = scaleDuration(rule.for, scale, 1000);
    }
  }
  const rel = file.slice(REPO_ROOT.length + 1);
  return `# Generated from ${rel} by tools/observe (time scale 1/${scale}) — do not edit.\n# Every for: and range selector is divided by ${scale}; names such as rate2m keep their source names.\n${stringify(doc, { lineWidth: 0 })}`;
}

// ---- Prometheus ----------------------------------------------------------------------------------

/**
 * The local Prometheus configuration: monitoring/lib/local.ts renders it (the one source, which
 * carries the cluster's platform-job relabelling over from monitoring/prometheus/prometheus.yml);
 * this only maps the stack's options onto it.
 */
export function prometheusConfig(options: GenerateOptions, rulePaths: readonly string[]): string {
  const interval = `${options.scrapeIntervalSeconds}s`;
  return renderLocalPrometheusConfig({
    targets: options.targets,
    alertmanagers: [options.alertmanagerAddress],
    prometheusAddress: options.prometheusAddress,
    scrapeInterval: interval,
    evaluationInterval: interval,
    ruleFiles: rulePaths,
    // The same job name and target labels as the cluster's Kubernetes discovery, so the rules' selectors match unchanged.
    extraLabels: { namespace: 'local' },
    externalLabels: { environment: 'local' },
    generatedBy: 'tools/observe for the local platform (regenerated at every start)',
  });
}

// ---- Alertmanager --------------------------------------------------------------------------------

export function alertmanagerSource(monitoringDir = MONITORING_DIR): string {
  const dir = join(monitoringDir, 'alertmanager');
  const candidates = ['alertmanager.yml', 'alertmanager.yaml', 'config.yml', 'config.yaml'].map((f) => join(dir, f));
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`no Alertmanager configuration in ${dir} (expected one of ${candidates.map((c) => c.slice(dir.length + 1)).join(', ')})`);
  return found;
}

type Yaml = Record<string, unknown>;

function scaleTimers(node: Yaml, scale: number): void {
  for (const key of ['group_wait', 'group_interval', 'repeat_interval']) {
    if (typeof node[key] === 'string') node[key] = scaleDuration(node[key], scale, 1000);
  }
  for (const child of (node.routes as Yaml[] | undefined) ?? []) scaleTimers(child, scale);
}

/**
 * The Alertmanager configuration of monitoring/, with Slack pointed at `slackUrl`, template paths
 * made absolute, and timers scaled. Receivers, routes and inhibition are untouched.
 */
export function alertmanagerConfig(options: Pick<GenerateOptions, 'slackUrl' | 'timeScale'> & { monitoringDir?: string }): string {
  const monitoringDir = options.monitoringDir ?? MONITORING_DIR;
  const source = alertmanagerSource(monitoringDir);
  const doc = parse(readFileSync(source, 'utf8')) as Yaml;
  const global = (doc.global ?? {}) as Yaml;
  delete global.slack_api_url_file;
  global.slack_api_url = options.slackUrl;
  if (options.timeScale !== 1 && typeof global.resolve_timeout === 'string')
    global.resolve_timeout = scaleDuration(global.resolve_timeout, options.timeScale, 1000);
  doc.global = global;
  let slackReceivers = 0;
  for (const receiver of (doc.receivers as Yaml[] | undefined) ?? []) {
    for (const slack of (receiver.slack_configs as Yaml[] | undefined) ?? []) {
      delete slack.api_url_file;
      slack.api_url = options.slackUrl;
      slackReceivers++;
    }
  }
  if (slackReceivers === 0) throw new Error(`${source} has no slack_configs: nothing to point at the Slack sink`);
  if (Array.isArray(doc.templates)) {
    const templatesDir = join(monitoringDir, 'alertmanager', 'templates');
    doc.templates = (doc.templates as string[]).map((t) => join(templatesDir, t.split('/').at(-1) as string));
  }
  if (options.timeScale !== 1 && doc.route) scaleTimers(doc.route as Yaml, options.timeScale);
  const rel = source.slice(REPO_ROOT.length + 1);
  return `# Generated from ${rel} by tools/observe — do not edit. Slack goes to ${options.slackUrl.includes('hooks.slack.com') ? 'SLACK_WEBHOOK_URL' : 'the local Slack sink'}${options.timeScale !== 1 ? `; timers divided by ${options.timeScale}` : ''}.\n${stringify(doc, { lineWidth: 0 })}`;
}
