/**
 * The shapes a drill is made of. A scenario (scenarios.ts) is written once and planned for a target
 * (targets/local.ts, targets/kubernetes.ts): the target supplies the actions (how to delete a
 * secret here), the scenario states what must be observed. The runner (runner.ts) walks the phases
 * and records everything in a Journal, which the reporters (report/) turn into Markdown and HTML.
 */

import type { StoredSpan } from '@sre/observe/traces';
import type { BudgetMeasurement } from './budget.js';

export const SCENARIOS = [
  'secret-deletion',
  'pod-deletion',
  'readiness-failure',
  'database-outage',
  'storage-outage',
  'upstream-latency',
  'error-burst',
  'cpu-saturation',
  'error-budget-burn',
  'load-spike',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type TargetName = 'local' | 'kubernetes';

export type PhaseName = 'steady-state' | 'inject' | 'observe' | 'rollback' | 'recover' | 'report';
export const PHASES: readonly PhaseName[] = ['steady-state', 'inject', 'observe', 'rollback', 'recover', 'report'];

/** One thing the drill does to the platform. `command` is what a person would type (shown in dry runs and reports). */
export interface Step {
  readonly description: string;
  readonly command?: string;
  /** Returns a short output for the journal. Throwing fails the step (and the drill after rollback). */
  readonly run: (ctx: DrillContext) => Promise<string | void>;
}

export type TrafficClass = 'auth' | 'images' | 'storage';

interface ExpectationBase {
  /** Stable id used in the journal and in tests. */
  readonly id: string;
  readonly description: string;
  /** Why this expectation holds (or must hold): shown in docs and reports. */
  readonly why: string;
}

/** The alert is active in Alertmanager and (where the sink is readable) delivered to Slack with its runbook link. */
export interface AlertExpectation extends ExpectationBase {
  readonly kind: 'alert-fires';
  readonly alertname: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Bound on time-to-detect, from the end of injection. */
  readonly withinMs: number;
  /** How the bound was derived (bounds/derive.ts), shown in plans and reports. */
  readonly derivation?: string;
  /** Check the Slack sink received a firing notification naming the alert with its runbook link. */
  readonly notification: boolean;
}

/** The alert stays silent for the whole observation (e.g. one of two replicas lost must not page). */
export interface NoAlertExpectation extends ExpectationBase {
  readonly kind: 'alert-silent';
  readonly alertname: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A PromQL expression returns a non-empty result (the signal moved) within the bound. */
export interface PromqlExpectation extends ExpectationBase {
  readonly kind: 'promql';
  readonly query: string;
  readonly withinMs: number;
  readonly derivation?: string;
}

/** An alert that must resolve after rollback, with a resolved notification where the sink is readable. */
export interface ResolveExpectation {
  readonly alertname: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Bound from the start of rollback (bounds/derive.ts). */
  readonly withinMs: number;
  readonly derivation?: string;
}

/** User-visible behaviour, judged from the synthetic traffic recorded while the fault was on. */
export interface TrafficExpectation extends ExpectationBase {
  readonly kind: 'traffic';
  readonly classes: readonly TrafficClass[];
  /** Success ratio must be at least this (1 = no failed request). */
  readonly minSuccessRatio?: number;
  /** Success ratio must be at most this (the failure must be visible, e.g. images down → 503). */
  readonly maxSuccessRatio?: number;
  /** Failures must be fast: the 95th percentile of failed requests' latency stays below this. */
  readonly maxFailureP95Ms?: number;
  /** Only requests with these statuses count as the expected failure (e.g. [503]). */
  readonly failureStatuses?: readonly number[];
}

/** Something the target itself can tell (a log line, a crash loop, a pod state). */
export interface ProbeExpectation extends ExpectationBase {
  readonly kind: 'probe';
  readonly withinMs: number;
  /** The shown check, e.g. the command or log pattern. */
  readonly check: string;
  /** Resolves with an observation when it holds, undefined while it does not (yet). */
  readonly probe: (ctx: DrillContext) => Promise<string | undefined>;
}

export type Expectation = AlertExpectation | NoAlertExpectation | PromqlExpectation | TrafficExpectation | ProbeExpectation;

/** A query recorded through the drill for the report's charts and tables. */
export interface RecordedQuery {
  readonly name: string;
  readonly promql: string;
}

export interface ScenarioPlan {
  readonly scenario: ScenarioName;
  readonly title: string;
  readonly target: TargetName;
  /** What the drill does and what it shows, in a sentence or two. */
  readonly summary: string;
  readonly inject: readonly Step[];
  readonly rollback: readonly Step[];
  readonly expectations: readonly Expectation[];
  readonly queries: readonly RecordedQuery[];
  /** The observation phase lasts at least this long (for "nothing failed" expectations), at most `maxObserveMs`. */
  readonly minObserveMs: number;
  readonly maxObserveMs: number;
  /** After rollback, steady state must be back within this bound (time-to-recover). */
  readonly recoverWithinMs: number;
  /** Alerts that must resolve after rollback (a resolved notification is sent for them). */
  readonly resolves: readonly ResolveExpectation[];
  /** The SLO whose error budget the report accounts for (error-budget-burn). */
  readonly budget?: { readonly service: string; readonly slo: string };
  /** Signals that must return after rollback (e.g. the HPA scales back in), checked while recovering. */
  readonly afterRollback?: readonly PromqlExpectation[];
  /** Where the report's log excerpt comes from. */
  readonly logSources: readonly string[];
}

export interface TrafficSample {
  /** ms since the drill started */
  readonly t: number;
  readonly cls: TrafficClass;
  readonly route: string;
  /** 0 = no HTTP answer (connection refused, timeout) */
  readonly status: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly phase: PhaseName;
  readonly code?: string;
  /** The W3C trace id the request was sent with (traffic.ts starts every request's trace). */
  readonly traceId?: string;
}

export interface JournalEvent {
  readonly t: number;
  readonly at: string;
  readonly kind: 'phase' | 'action' | 'check' | 'alert' | 'notification' | 'info' | 'error';
  readonly message: string;
  readonly data?: unknown;
}

export interface ExpectationResult {
  readonly id: string;
  readonly kind: Expectation['kind'] | 'steady-state' | 'recovery';
  readonly description: string;
  readonly why: string;
  readonly check: string;
  readonly bound?: string;
  status: 'passed' | 'failed' | 'pending' | 'not-run';
  observed: string;
  /** For alerts: time-to-detect; for recovery: time-to-recover. */
  measuredMs?: number;
}

export interface QuerySeries {
  readonly name: string;
  readonly promql: string;
  readonly points: Array<{ t: number; value: number | null; series: number }>;
}

export interface AlertStatePoint {
  readonly t: number;
  readonly alertname: string;
  readonly state: 'pending' | 'firing' | 'inactive';
}

export interface DeliveredNotification {
  readonly receivedAt: string;
  readonly t: number;
  readonly status: string;
  readonly alertnames: string[];
  /** The severity in the title ("[FIRING:1] ServiceDown · critical · auth"). */
  readonly severity?: string;
  /** The service in the title, when the group has one. */
  readonly service?: string;
  readonly text: string;
  readonly runbookUrls: string[];
  readonly channel?: string;
}

export interface Journal {
  readonly version: 1;
  readonly scenario: ScenarioName;
  readonly title: string;
  readonly summary: string;
  readonly target: TargetName;
  readonly dryRun: boolean;
  readonly startedAt: string;
  finishedAt: string;
  result: 'passed' | 'failed' | 'not-started' | 'aborted' | 'planned';
  reason?: string;
  readonly environment: Record<string, string>;
  phases: Array<{ name: PhaseName; startedAt: string; t0: number; t1?: number; status: 'ok' | 'failed' | 'skipped' | 'running'; note?: string }>;
  events: JournalEvent[];
  actions: Array<{ t: number; phase: PhaseName; description: string; command?: string; ok: boolean; output?: string }>;
  expectations: ExpectationResult[];
  traffic: TrafficSample[];
  queries: QuerySeries[];
  alertStates: AlertStatePoint[];
  notifications: DeliveredNotification[];
  logs: Array<{ source: string; lines: string[] }>;
  /** Error budget consumed while the fault was on (plans with `budget`; budget.ts). */
  budget?: BudgetMeasurement;
  /** Failed requests while the fault was on, with the hop their trace shows failing (targets with a trace store). */
  failedRequestTraces?: FailedRequestTrace[];
  /** Where a trace id opens its trace (`<traceViewUrl>/<trace id>`), when the target has a trace view. */
  traceViewUrl?: string;
  /** Every console line of the platform during the drill (the console showed error counts instead). */
  console?: string[];
  timeToDetectMs?: number;
  timeToRecoverMs?: number;
  /** ms since start at which injection finished and rollback started (chart markers). */
  markers: { injectedAt?: number; rollbackAt?: number; recoveredAt?: number };
}

/** What the runner gives steps and probes. */
export interface DrillContext {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  /** Values steps hand to later steps (a resolved pod name, a secret backup path). */
  readonly vars: Map<string, string>;
  log(message: string, data?: unknown): void;
  now(): number;
}

/** What a target must provide to run drills against it (the runner is target-agnostic). */
export interface Target {
  readonly name: TargetName;
  /** Base URL of the gateway for synthetic traffic. */
  readonly gatewayUrl: string;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** The local Slack sink's URL, when notifications can be read back (local observe stack). */
  readonly sinkUrl?: string;
  plan(scenario: ScenarioName): ScenarioPlan;
  /** Opens port-forwards etc.; returns a disposer. Not called on dry runs. */
  connect?(ctx: DrillContext): Promise<void>;
  disconnect?(): Promise<void>;
  /** Every console line of the platform since a time (local target), kept in the journal. */
  consoleLines?(sinceMs: number): string[];
  /** Recent log lines of a source, for the report. */
  logs?(source: string, sinceMs: number): Promise<string[]>;
  /** The spans received for a trace id (local target: the drill platform's trace store). */
  traceSpans?(traceId: string): readonly StoredSpan[] | undefined;
  /** Where a trace id opens its trace: `<traceViewUrl>/<trace id>`. */
  readonly traceViewUrl?: string;
  /** Extra steady-state checks (every service ready, no crash loop). Returns problems, empty when healthy. */
  healthProblems?(ctx: DrillContext): Promise<string[]>;
  readonly environment: Record<string, string>;
  /** Before the steady-state check, wait this long at most for alerts of an earlier drill to resolve. */
  readonly settleMs?: number;
}

/** What every target of a scenario shares (definitions.ts builds it; scenarios.ts assembles the plan from it). */
export interface Shared {
  readonly expectations: Expectation[];
  readonly queries: RecordedQuery[];
  readonly resolves: ResolveExpectation[];
  readonly afterRollback: PromqlExpectation[];
  readonly budget?: { readonly service: string; readonly slo: string };
}

/** A request that failed during the fault, and what its trace shows (report/failed-traces.ts). */
export interface FailedRequestTrace {
  /** ms since the drill started */
  readonly t: number;
  readonly route: string;
  readonly status: number;
  readonly traceId: string;
  /** Spans received for the trace (0: none arrived — tracing off, or the request never reached the gateway). */
  readonly spanCount: number;
  /** "service: span name — status message" of the deepest error span, when one was received. */
  readonly failingHop?: string;
  /** The services the trace went through, in order of their first span. */
  readonly path: string[];
}

/**
 * Whether a Slack notification is about the alert an expectation names: its alertname, and its service
 * and severity when both say one. An SLO page for the gateway must not stand in for the one expected for
 * images, nor the SLO ticket (warning) for the page (critical) of the same service: the real-time
 * error-burst run credited a ticket re-sent 4.5 s after injection for a page that came 2.4 min later.
 */
export function notificationIsAbout(n: DeliveredNotification, alertname: string, labels: Readonly<Record<string, string>> = {}): boolean {
  if (!n.alertnames.includes(alertname)) return false;
  const agrees = (label: 'service' | 'severity') => labels[label] === undefined || n[label] === undefined || n[label] === labels[label];
  return agrees('service') && agrees('severity');
}
