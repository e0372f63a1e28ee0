import type {
  AlertExpectation,
  Expectation,
  NoAlertExpectation,
  ProbeExpectation,
  PromqlExpectation,
  ScenarioName,
  ScenarioPlan,
  Shared,
  Step,
  TargetName,
  TrafficClass,
  TrafficExpectation,
} from './types.js';

/**
 * What each drill is about, independent of where it runs. The targets (targets/*.ts) turn these
 * into actions and expectations; docs/drills.md is written from the same texts.
 */
export interface ScenarioInfo {
  readonly title: string;
  /** What the drill does and what it proves. */
  readonly summary: string;
  /** True for the three scenarios of the seed (section 6). */
  readonly seed: boolean;
  /** Where it can run (default: every target). */
  readonly targets?: readonly TargetName[];
}

export const SCENARIO_INFO: Record<ScenarioName, ScenarioInfo> = {
  'secret-deletion': {
    title: 'Secret deletion',
    seed: true,
    summary:
      'Auth loses its secret configuration. It must refuse to start with a clear error naming the missing variables, the restarts become a crash loop, an alert pages with its runbook, and restoring the secret heals it without any other step.',
  },
  'pod-deletion': {
    title: 'Pod deletion (one of two instances killed)',
    seed: true,
    summary:
      'One of two Images instances is killed (SIGKILL / kubectl delete pod) while users keep working. The other instance serves, the lost one is replaced, and not a single request fails; nobody is paged.',
  },
  'readiness-failure': {
    title: 'Readiness failure',
    seed: true,
    summary:
      "One Images instance's readiness is made to fail with the fault-injection toggle. The instance leaves load balancing, the readiness alert pages with its runbook, users see no failure, and clearing the toggle heals it.",
  },
  'database-outage': {
    title: 'Database outage',
    seed: false,
    summary:
      'PostgreSQL stops. Auth and Images answer 503 quickly instead of hanging, their readiness fails, the dependency alert pages, and when the database returns everything recovers without a restart.',
  },
  'storage-outage': {
    title: 'Object storage outage',
    seed: false,
    summary:
      'Object storage stops. Reading pictures answers 503 quickly, login and the rest of the platform keep working, the storage dependency alert pages, and the service recovers by itself when storage returns.',
  },
  'upstream-latency': {
    title: 'Upstream latency',
    seed: false,
    summary:
      'Images answers every request 2.5 s late (injected latency). The latency alert pages, the gateway bounds what users wait (its upstream timeout), and routes to Auth stay fast.',
  },
  'error-burst': {
    title: 'Error burst',
    seed: false,
    summary: 'Images answers half of its requests with 503 (injected errors). The 5xx-ratio alert pages with its runbook while Auth routes stay unaffected.',
  },
  'cpu-saturation': {
    title: 'CPU saturation',
    seed: false,
    summary:
      'Images burns CPU in worker threads (injected). The CPU signal moves in Prometheus (in Kubernetes the HPA scales Images out), while requests keep being served.',
  },
  'error-budget-burn': {
    title: 'Error budget burn (2 % errors)',
    seed: false,
    summary:
      'Images answers 2 % of its requests with 503 (injected errors): too few for a fixed 5 % threshold, but 20 times the rate a 99.9 % availability objective allows. The fast-burn SLO page reaches Slack with its runbook, and the report shows how much of the error budget the drill consumed.',
  },
  'load-spike': {
    title: 'Load spike (HPA scales out and back in)',
    seed: false,
    targets: ['kubernetes'],
    summary:
      'The load generator (opt-in component k8s/components/loadgenerator) is scaled up. The HPA asks for more Images replicas than its minimum, users keep being served, and after the load generator is scaled back to 0 the HPA returns to its minimum.',
  },
};

/** The scenarios a target can run (what `all` means for it). */
export function scenariosFor(target: TargetName, all: readonly ScenarioName[]): ScenarioName[] {
  return all.filter((s) => SCENARIO_INFO[s].targets?.includes(target) ?? true);
}

/** Alert names, from monitoring/rules (the single source the cluster and `npm run observe` both load). */
export const ALERTS = {
  instanceDown: 'ServiceInstanceDown',
  serviceDown: 'ServiceDown',
  notReady: 'ServiceNotReady',
  dependencyDown: 'ServiceDependencyDown',
  circuitOpen: 'GatewayUpstreamCircuitOpen',
  // SLO burn-rate alerts (monitoring/slos.yaml → generated rules): labels service, slo, severity.
  availabilityBurn: 'SLOAvailabilityBudgetBurn',
  latencyBurn: 'SLOLatencyBudgetBurn',
} as const;

export function alertFires(
  id: string,
  alertname: string,
  labels: Record<string, string>,
  withinMs: number,
  why: string,
  notification = true,
  derivation?: string,
): AlertExpectation {
  return {
    id,
    kind: 'alert-fires',
    alertname,
    labels,
    withinMs,
    ...(derivation ? { derivation } : {}),
    notification,
    description: `${alertname}${
      Object.keys(labels).length
        ? ` (${Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')})`
        : ''
    } fires and reaches Slack`,
    why,
  };
}

export function alertSilent(id: string, alertname: string, labels: Record<string, string>, why: string): NoAlertExpectation {
  return { id, kind: 'alert-silent', alertname, labels, description: `${alertname}${labels.service ? ` (${labels.service})` : ''} does not fire`, why };
}

export function promql(id: string, description: string, query: string, withinMs: number, why: string, derivation?: string): PromqlExpectation {
  return { id, kind: 'promql', description, query, withinMs, why, ...(derivation ? { derivation } : {}) };
}

export function traffic(
  id: string,
  description: string,
  classes: TrafficClass[],
  rule: Omit<TrafficExpectation, 'id' | 'kind' | 'description' | 'why' | 'classes'>,
  why: string,
): TrafficExpectation {
  return { id, kind: 'traffic', description, classes, ...rule, why };
}

/** Every scenario's expectations must be checkable; a target returns none only by mistake. */
export function assertPlannable(name: ScenarioName, expectations: readonly Expectation[]): void {
  if (expectations.length === 0) throw new Error(`scenario ${name} has no expectations`);
}

/** What a target adds to a scenario's shared expectations (definitions.ts): its actions, probes and timing. */
export interface TargetPart {
  readonly inject: readonly Step[];
  readonly rollback: readonly Step[];
  readonly probes?: readonly ProbeExpectation[];
  readonly minObserveMs: number;
  readonly recoverWithinMs: number;
  readonly logSources: readonly string[];
}

/**
 * One plan from the shared expectations and the target's part. Observation lasts until every
 * expectation is decided, at most as long as the longest derived bound (plus a tenth for polling).
 */
export function assemble(scenario: ScenarioName, target: TargetName, shared: Shared, part: TargetPart): ScenarioPlan {
  const info = SCENARIO_INFO[scenario];
  const expectations: Expectation[] = [...(part.probes ?? []), ...shared.expectations];
  assertPlannable(scenario, expectations);
  const longest = Math.max(part.minObserveMs, ...expectations.map((e) => ('withinMs' in e ? e.withinMs : 0)));
  return {
    scenario,
    title: info.title,
    summary: info.summary,
    target,
    inject: part.inject,
    rollback: part.rollback,
    expectations,
    queries: shared.queries,
    minObserveMs: part.minObserveMs,
    maxObserveMs: Math.round(longest * 1.1),
    recoverWithinMs: part.recoverWithinMs,
    resolves: shared.resolves,
    afterRollback: shared.afterRollback,
    ...(shared.budget ? { budget: shared.budget } : {}),
    logSources: part.logSources,
  };
}
