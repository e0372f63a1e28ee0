import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MONITORING_DIR, parseDuration, scaleDuration, scaleExprRanges } from '@sre/observe/config';
import { expressionWindows, type RecordingRules } from './promql-windows.js';

/**
 * A drill's time bounds, derived from what decides them (issue 12): the alert rule it waits for and
 * the Alertmanager route the alert goes through, read from monitoring/ when the drill runs — so a
 * rule or route that changes moves the bound with it — at the time scale the rules are loaded with.
 *
 *   fire    ≤ window + for + evaluations + scrape + first flush    + slack
 *   resolve ≤ window + keep_firing_for + evaluations + scrape + group_interval + slack
 *
 * window: expressionWindows() (range selectors through the recording rules; set operators);
 * evaluations: one per rule level (the alert and each recording rule it reads);
 * first flush: group_wait for a new group, group_interval for a group Alertmanager still holds (the
 * longer counts); group_interval: the next flush of the group, which carries the resolved notification; slack: what no rule says (process start-up, readiness
 * probes refreshing a gauge, a busy machine), stated per target.
 */

export interface Timing {
  /** The time scale the rules and routes are loaded with (tools/observe divides them by it). */
  readonly timeScale: number;
  readonly scrapeIntervalMs: number;
  readonly evaluationIntervalMs: number;
  readonly slackMs: number;
}

export interface BoundPart {
  readonly label: string;
  readonly ms: number;
}

export interface Bound {
  readonly ms: number;
  readonly parts: readonly BoundPart[];
  /** "5m window + 0s for + 2 × 15s eval + 15s scrape + 2m group_interval + 30s slack = 8m" */
  readonly derivation: string;
}

interface AlertRuleSource {
  readonly expr: string;
  readonly for?: string;
  readonly keepFiringFor?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RuleSet {
  readonly alerts: ReadonlyMap<string, readonly AlertRuleSource[]>;
  readonly records: RecordingRules;
}

interface RuleFileDoc {
  groups?: Array<{
    rules?: Array<{ alert?: string; record?: string; expr?: unknown; for?: string; keep_firing_for?: string; labels?: Record<string, string> }>;
  }>;
}

/** Every rule file of monitoring/rules, scaled the way tools/observe scales them for Prometheus. */
export function loadRuleSet(timing: Pick<Timing, 'timeScale' | 'scrapeIntervalMs'>, monitoringDir = MONITORING_DIR): RuleSet {
  const dir = join(monitoringDir, 'rules');
  if (!existsSync(dir)) throw new Error(`no rules in ${dir}`);
  // The same floor as tools/observe/src/config.ts scaledRules: a range holds at least 4 scrapes.
  const rangeFloorMs = Math.max(4, (4 * timing.scrapeIntervalMs) / 1000) * 1000;
  const scaleExpr = (e: string) => scaleExprRanges(e, timing.timeScale, rangeFloorMs);
  const scaleFor = (d: string | undefined) => (d === undefined ? undefined : scaleDuration(d, timing.timeScale, 1000));
  const alerts = new Map<string, AlertRuleSource[]>();
  const records = new Map<string, string>();
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const doc = parse(readFileSync(join(dir, file), 'utf8')) as RuleFileDoc | null;
    for (const group of doc?.groups ?? []) {
      for (const rule of group.rules ?? []) {
        const expr = scaleExpr(String(rule.expr ?? ''));
        if (rule.record) {
          // Several rules may record one name (per-service SLIs): read them as one `or`.
          const before = records.get(rule.record);
          records.set(rule.record, before === undefined ? expr : `(${before}) or (${expr})`);
        } else if (rule.alert) {
          const forText = scaleFor(rule.for);
          const keep = scaleFor(rule.keep_firing_for);
          alerts.set(rule.alert, [
            ...(alerts.get(rule.alert) ?? []),
            { expr, ...(forText ? { for: forText } : {}), ...(keep ? { keepFiringFor: keep } : {}), labels: rule.labels ?? {} },
          ]);
        }
      }
    }
  }
  return { alerts, records };
}

// ---- Alertmanager routes -------------------------------------------------------------------------------

interface RouteDoc {
  receiver?: string;
  matchers?: string[];
  match?: Record<string, string>;
  match_re?: Record<string, string>;
  group_wait?: string;
  group_interval?: string;
  continue?: boolean;
  routes?: RouteDoc[];
}

export interface RouteTimers {
  readonly receiver: string;
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  /** The route's matchers, for the derivation text ("severity=\"critical\" route"). */
  readonly matchedBy: string;
}

function matcherHolds(matcher: string, labels: Readonly<Record<string, string>>): boolean {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(matcher);
  if (!m) throw new Error(`cannot read Alertmanager matcher '${matcher}'`);
  const [, name, op, value] = m as unknown as [string, string, string, string];
  const actual = labels[name] ?? '';
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const re = new RegExp(`^(?:${value})$`);
  return op === '=~' ? re.test(actual) : !re.test(actual);
}

function routeMatches(route: RouteDoc, labels: Readonly<Record<string, string>>): boolean {
  const matchers = [
    ...(route.matchers ?? []),
    ...Object.entries(route.match ?? {}).map(([k, v]) => `${k}="${v}"`),
    ...Object.entries(route.match_re ?? {}).map(([k, v]) => `${k}=~"${v}"`),
  ];
  return matchers.every((m) => matcherHolds(m, labels));
}

/** The timers of the route an alert with these labels takes (first matching child, recursively; unset timers inherited). */
export function routeFor(labels: Readonly<Record<string, string>>, timeScale: number, monitoringDir = MONITORING_DIR): RouteTimers {
  const file = ['alertmanager.yml', 'alertmanager.yaml', 'config.yml', 'config.yaml']
    .map((f) => join(monitoringDir, 'alertmanager', f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`no Alertmanager configuration in ${join(monitoringDir, 'alertmanager')}`);
  const root = (parse(readFileSync(file, 'utf8')) as { route?: RouteDoc }).route;
  if (!root) throw new Error(`${file} has no route`);
  // Alertmanager's own defaults when the root leaves them unset.
  let receiver = root.receiver ?? '';
  let groupWait = root.group_wait ?? '30s';
  let groupInterval = root.group_interval ?? '5m';
  let matchedBy = 'root route';
  let node: RouteDoc = root;
  for (;;) {
    const child = (node.routes ?? []).find((r) => routeMatches(r, labels));
    if (!child) break;
    node = child;
    receiver = child.receiver ?? receiver;
    groupWait = child.group_wait ?? groupWait;
    groupInterval = child.group_interval ?? groupInterval;
    matchedBy = `${[...(child.matchers ?? []), ...Object.entries(child.match ?? {}).map(([k, v]) => `${k}="${v}"`)].join(', ')} route`;
  }
  return {
    receiver,
    groupWaitMs: parseDuration(scaleDuration(groupWait, timeScale, 1000)),
    groupIntervalMs: parseDuration(scaleDuration(groupInterval, timeScale, 1000)),
    matchedBy,
  };
}

// ---- bounds ---------------------------------------------------------------------------------------------

export function fmtDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = Math.round(ms);
  let out = '';
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}

export function bound(parts: readonly BoundPart[]): Bound {
  const ms = parts.reduce((sum, p) => sum + p.ms, 0);
  return { ms, parts, derivation: `${parts.map((p) => `${fmtDuration(p.ms)} ${p.label}`).join(' + ')} = ${fmtDuration(ms)}` };
}

export interface AlertBounds {
  readonly fire: Bound;
  readonly resolve: Bound;
  readonly route: RouteTimers;
}

function firstFlush(route: RouteTimers): BoundPart {
  const wait = fmtDuration(route.groupWaitMs);
  if (route.groupIntervalMs <= route.groupWaitMs) return { label: `group_wait (${route.matchedBy})`, ms: route.groupWaitMs };
  return { label: `group_interval (${route.matchedBy}; group_wait ${wait} if the group is new)`, ms: route.groupIntervalMs };
}

export class BoundDeriver {
  readonly timing: Timing;
  readonly rules: RuleSet;
  readonly #monitoringDir: string;

  constructor(timing: Timing, monitoringDir = MONITORING_DIR) {
    this.timing = timing;
    this.#monitoringDir = monitoringDir;
    this.rules = loadRuleSet(timing, monitoringDir);
  }

  #evaluations(depth: number): BoundPart {
    const n = depth + 1;
    return { label: n === 1 ? 'eval' : `eval (${n} rule levels × ${fmtDuration(this.timing.evaluationIntervalMs)})`, ms: n * this.timing.evaluationIntervalMs };
  }

  has(alertname: string): boolean {
    return (this.rules.alerts.get(alertname)?.length ?? 0) > 0;
  }

  /**
   * Fire and resolve bounds of an alert whose instance carries `labels` (the expectation's), through
   * its route. Several rules may share the name (a page per window pair, a ticket): only those whose
   * own labels agree with `labels` count; the first of them to fire decides the fire bound, the last
   * to resolve the resolve bound.
   */
  alert(alertname: string, labels: Readonly<Record<string, string>> = {}): AlertBounds {
    const all = this.rules.alerts.get(alertname);
    if (!all || all.length === 0) throw new Error(`alert ${alertname} is not defined in monitoring/rules: no bound can be derived`);
    const rules = all.filter((r) => Object.entries(r.labels).every(([k, v]) => labels[k] === undefined || labels[k] === v));
    if (rules.length === 0) throw new Error(`no rule of ${alertname} carries the labels ${JSON.stringify(labels)}`);
    const per = rules.map((rule) => {
      const w = expressionWindows(rule.expr, this.rules.records);
      const forMs = rule.for ? parseDuration(rule.for) : 0;
      const keepMs = rule.keepFiringFor ? parseDuration(rule.keepFiringFor) : 0;
      return { w, forMs, keepMs, labels: rule.labels };
    });
    const fireRule = per.reduce((a, b) => (b.w.fireMs + b.forMs < a.w.fireMs + a.forMs ? b : a));
    const resolveRule = per.reduce((a, b) => (b.w.resolveMs + b.keepMs > a.w.resolveMs + a.keepMs ? b : a));
    const route = routeFor({ alertname, ...fireRule.labels, ...labels }, this.timing.timeScale, this.#monitoringDir);
    const scrape = { label: 'scrape', ms: this.timing.scrapeIntervalMs };
    const slack = { label: 'slack', ms: this.timing.slackMs };
    const fire = bound([
      { label: 'window', ms: fireRule.w.fireMs },
      { label: 'for', ms: fireRule.forMs },
      this.#evaluations(fireRule.w.depth),
      scrape,
      // A new group waits group_wait for its first message; an alert that joins a group Alertmanager still
      // holds (Prometheus re-sends resolved alerts for 15 minutes, so a drill's group often outlives it)
      // goes out with that group's next flush, up to group_interval later (issue 12: storage-outage right
      // after database-outage, both ServiceDependencyDown for images, missed a group_wait bound).
      firstFlush(route),
      slack,
    ]);
    const resolve = bound([
      { label: 'window', ms: resolveRule.w.resolveMs },
      ...(resolveRule.keepMs > 0 ? [{ label: 'keep_firing_for', ms: resolveRule.keepMs }] : []),
      this.#evaluations(resolveRule.w.depth),
      scrape,
      { label: `group_interval (${route.matchedBy})`, ms: route.groupIntervalMs },
      slack,
    ]);
    return { fire, resolve, route };
  }

  /**
   * How long an alert of an earlier drill may take to resolve: the longest resolve bound of any
   * alert (the Watchdog fires forever by design). The steady-state check waits at most this long.
   */
  settleMs(): number {
    const names = [...this.rules.alerts.keys()].filter((n) => n !== 'Watchdog');
    return Math.max(0, ...names.map((n) => this.alert(n).resolve.ms));
  }

  /** A PromQL expectation's bound: its windows (through recording rules) + evaluations + a scrape + slack. */
  query(promql: string): Bound {
    const w = expressionWindows(promql, this.rules.records);
    return bound([
      { label: 'window', ms: w.fireMs },
      ...(w.depth > 0 ? [this.#evaluations(w.depth - 1)] : []),
      { label: 'scrape', ms: this.timing.scrapeIntervalMs },
      { label: 'slack', ms: this.timing.slackMs },
    ]);
  }
}
