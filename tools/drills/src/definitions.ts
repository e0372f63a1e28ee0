import { bound, type BoundDeriver, type BoundPart } from './bounds/derive.js';
import { ALERTS, alertFires, alertSilent, promql, traffic } from './scenarios.js';
import type { Expectation, PromqlExpectation, RecordedQuery, ResolveExpectation, ScenarioName, Shared, TargetName } from './types.js';

export type { Shared };

/**
 * Each scenario's expectations, written once for every target (issue 10: the Kubernetes target had
 * drifted from a hand-made copy). A target supplies only what differs: how it injects (targets/*.ts),
 * the probes only it can make (a log line, a pod state), and its vocabulary below — label values and
 * selectors. Alert and PromQL bounds come from the rules and routes (bounds/derive.ts).
 */

export type ServiceName = 'gateway' | 'auth' | 'images';

export interface Vocabulary {
  readonly target: TargetName;
  /** The `namespace` label of the platform's series (local: "local"; cluster: "app"). */
  readonly namespace: string;
  /** Label matcher for every pod of a service: pod=~"images-.*" / pod=~"images-service-.*". */
  podsOf(service: ServiceName): string;
  /** The pod a one-instance fault hits when it is known before the drill (locally images-1). */
  faultedPod(service: ServiceName): string | undefined;
  /** Range of the drill's own signal queries: a few scrapes of this target. */
  readonly signalRange: string;
  /** CPU cores used by the pods of a service (optionally one pod), by pod. */
  cpuByPod(service: ServiceName, pod?: string): string;
  /** The Slack sink can be read back (local observe stack); otherwise Alertmanager's counters stand in. */
  readonly readableSink: boolean;
  /** The Kubernetes object names (Deployments, HPAs) of a service, where there are any. */
  workload?(service: ServiceName): string;
}

/** The 2 % error rate of error-budget-burn: 20× what a 99.9 % objective allows, below the old 5 % threshold. */
export const BUDGET_BURN_ERROR_SHARE = 0.02;
/** What `kubectl scale deployment/loadgenerator` is set to for load-spike. */
export const LOAD_SPIKE_REPLICAS = 4;

export function sharedExpectations(scenario: ScenarioName, v: Vocabulary, bounds: BoundDeriver): Shared {
  const only = (t: TargetName, list: Expectation[]) => (v.target === t ? list : []);
  const fires = (id: string, alertname: string, labels: Record<string, string>, why: string) => {
    const b = bounds.alert(alertname, labels);
    return alertFires(id, alertname, labels, b.fire.ms, why, true, b.fire.derivation);
  };
  const resolves = (alertname: string, labels: Record<string, string> = {}): ResolveExpectation => {
    const b = bounds.alert(alertname, labels);
    return { alertname, labels, withinMs: b.resolve.ms, derivation: b.resolve.derivation };
  };
  const signal: Signal = (id, description, query, why, extra = []) => {
    const b = bound([...bounds.query(query).parts, ...extra]);
    return promql(id, description, query, b.ms, why, b.derivation);
  };
  // Slack itself cannot be read back in a cluster: Alertmanager counts deliveries and failures per integration.
  const delivered = v.readableSink
    ? []
    : [
        signal(
          'slack-delivery',
          'Alertmanager delivered notifications to Slack without failures',
          'increase(alertmanager_notifications_total{integration="slack"}[10m]) > 0 unless on () increase(alertmanager_notifications_failed_total{integration="slack"}[10m]) > 0',
          'Slack itself cannot be read back; Alertmanager counts every delivery attempt and failure per integration.',
        ),
      ];
  const ns = v.namespace;
  const job = 'job="platform"';
  // The SLO burn-rate pages (monitoring/slos.yaml → generated rules) are what users are paged by.
  const errorAlert = ALERTS.availabilityBurn;
  const latencyAlert = ALERTS.latencyBurn;
  const page = (slo: string): Record<string, string> => ({ service: 'images', slo, severity: 'critical' });
  const faulted = v.faultedPod('images');

  switch (scenario) {
    case 'secret-deletion':
      return {
        expectations: [
          ...only('local', [
            fires(
              'service-down-alert',
              ALERTS.serviceDown,
              { service: 'auth' },
              'Locally no Kubernetes reports the waiting reason; the service itself is down (no instance answers scrapes), which pages as critical.',
            ),
            traffic(
              'auth-unavailable-fast',
              'Auth routes answer 503 quickly while it is down',
              ['auth'],
              { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 },
              'The gateway answers GATEWAY_UPSTREAM_UNAVAILABLE at once (refused connection, open circuit) instead of hanging.',
            ),
            traffic(
              'tokens-still-work',
              'Existing tokens keep working for Images routes',
              ['images', 'storage'],
              { minSuccessRatio: 0.99 },
              'Gateway and Images verify tokens locally with cached JWKS; they never call Auth per request.',
            ),
          ]),
          ...only('kubernetes', [
            fires(
              'config-error-alert',
              'KubeContainerConfigError',
              { namespace: ns, service: 'auth' },
              'kube-state-metrics exports the waiting reason; the seed asks for detection within 2 minutes.',
            ),
            traffic(
              'old-pods-serve',
              'Users keep logging in: the old pods keep serving during the stuck rollout',
              ['auth', 'images', 'storage'],
              { minSuccessRatio: 0.99 },
              'maxUnavailable 0: the old ReplicaSet stays until new pods are ready, so a broken Secret stops the rollout, not the service.',
            ),
          ]),
          ...delivered,
        ],
        queries:
          v.target === 'local'
            ? [
                { name: 'auth instances up', promql: `sum(up{${job},service="auth"})` },
                { name: 'gateway 5xx per second', promql: `sum(rate(http_requests_total{${job},service="gateway",status_code=~"5.."}[${v.signalRange}]))` },
              ]
            : [
                {
                  name: 'pods waiting (config error)',
                  promql: `sum(kube_pod_container_status_waiting_reason{namespace="${ns}",reason="CreateContainerConfigError"})`,
                },
                {
                  name: 'auth replicas available',
                  promql: `kube_deployment_status_replicas_available{namespace="${ns}",deployment="${v.workload?.('auth')}"}`,
                },
              ],
        resolves: [
          v.target === 'local' ? resolves(ALERTS.serviceDown, { service: 'auth' }) : resolves('KubeContainerConfigError', { namespace: ns, service: 'auth' }),
        ],
        afterRollback: [],
      };
    case 'pod-deletion':
      return {
        expectations: [
          traffic(
            'no-failed-request',
            'Not one request fails',
            ['auth', 'images', 'storage'],
            { minSuccessRatio: 1 },
            'The other instance serves: locally the balancer skips the dead instance and the gateway retries idempotent requests after a connection failure; in Kubernetes two replicas, a PDB, readiness-gated endpoints and the drain delay.',
          ),
          alertSilent(
            'no-page',
            ALERTS.serviceDown,
            { service: 'images' },
            'One of two replicas lost and replaced must not page: the `for:` durations are chosen so it does not.',
          ),
          ...only('kubernetes', [
            alertSilent(
              'no-replicas-alert',
              'KubeDeploymentReplicasUnavailable',
              { deployment: v.workload?.('images') ?? '' },
              "The replacement is ready long before the alert's `for:`.",
            ),
          ]),
        ],
        queries: [
          { name: 'images instances up', promql: `sum(up{${job},service="images"})` },
          { name: 'images request rate', promql: `sum(rate(http_requests_total{${job},service="images"}[${v.signalRange}]))` },
        ],
        resolves: [],
        afterRollback: [],
      };
    case 'readiness-failure':
      return {
        expectations: [
          fires(
            'not-ready-alert',
            ALERTS.notReady,
            { service: 'images', check: 'chaos', ...(faulted ? { pod: faulted } : {}) },
            'service_health_check_status{check="chaos"} is 0 on the faulted instance; the seed asks for detection within about 2 minutes.',
          ),
          alertSilent(
            'no-dependency-page',
            ALERTS.dependencyDown,
            { service: 'images' },
            'Only one instance fails: not a dependency outage, so the critical alert stays silent.',
          ),
          traffic(
            'no-failed-request',
            'Users see no failure',
            ['auth', 'images', 'storage'],
            { minSuccessRatio: 0.99 },
            'Locally the instance still serves (nothing removes it from the balancer); in Kubernetes it leaves the endpoints and the other pod serves.',
          ),
          ...only('kubernetes', [
            fires(
              'pod-not-ready-alert',
              'KubePodNotReady',
              { namespace: ns, service: 'images' },
              'kube-state-metrics reports the pod not ready; the service label comes from namespace_pod:service:info.',
            ),
            signal(
              'out-of-endpoints',
              'The pod is marked not ready (out of the Service endpoints)',
              `kube_pod_status_ready{namespace="${ns}",condition="false",${v.podsOf('images')}} == 1`,
              "The kubelet's readiness probe fails, so the endpoints controller stops sending traffic to it.",
            ),
          ]),
          ...delivered,
        ],
        queries: [{ name: 'failing readiness checks (images)', promql: `sum(service_health_check_status{${job},service="images"} == bool 0)` }],
        resolves: [resolves(ALERTS.notReady, { service: 'images', check: 'chaos' })],
        afterRollback: [],
      };
    case 'database-outage':
      return {
        expectations: [
          fires('auth-db-alert', ALERTS.dependencyDown, { service: 'auth', check: 'database' }, 'Every Auth instance fails its database readiness check.'),
          fires(
            'images-db-alert',
            ALERTS.dependencyDown,
            { service: 'images', check: 'database' },
            'Every Images instance fails its database readiness check.',
          ),
          traffic(
            'fast-503',
            'Requests needing the database fail fast with 503',
            ['auth', 'images'],
            { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 },
            'Refused connections map to the catalogued 503 *_DB_UNAVAILABLE at once; nothing hangs until a timeout.',
          ),
          ...delivered,
        ],
        queries: [
          { name: 'failing database checks', promql: `sum(service_health_check_status{${job},check="database"} == bool 0)` },
          { name: '5xx per second (all services)', promql: `sum(rate(http_requests_total{${job},status_code=~"5.."}[${v.signalRange}]))` },
        ],
        resolves: [resolves(ALERTS.dependencyDown, { service: 'auth', check: 'database' })],
        afterRollback: [],
      };
    case 'storage-outage':
      return {
        expectations: [
          fires('storage-alert', ALERTS.dependencyDown, { service: 'images', check: 'storage' }, 'Every Images instance fails its storage readiness check.'),
          traffic(
            'login-works',
            'Login and the rest of Auth keep working',
            ['auth'],
            { minSuccessRatio: 0.99 },
            'Auth does not depend on object storage; the gateway isolates upstreams.',
          ),
          traffic(
            'fast-503',
            'Reading pictures fails fast with 503',
            ['storage'],
            { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 },
            'Storage errors map to IMAGES_STORAGE_UNAVAILABLE (503) within S3_REQUEST_TIMEOUT_MS.',
          ),
          ...delivered,
        ],
        queries: [{ name: 'failing storage checks', promql: `sum(service_health_check_status{${job},check="storage"} == bool 0)` }],
        resolves: [resolves(ALERTS.dependencyDown, { service: 'images', check: 'storage' })],
        afterRollback: [],
      };
    case 'upstream-latency':
      return {
        expectations: [
          fires(
            'latency-alert',
            latencyAlert,
            page('latency'),
            "Every Images answer is 2.5 s late: every request is slow, far above the SLO page's 14.4× burn rate on both its windows for the whole `for:`.",
          ),
          traffic(
            'auth-fast',
            'Auth routes stay available',
            ['auth'],
            { minSuccessRatio: 0.99 },
            'The gateway keeps a separate timeout and circuit per upstream.',
          ),
          traffic(
            'images-slow-but-served',
            'Images requests are slow but answered',
            ['images', 'storage'],
            { minSuccessRatio: 0.95 },
            "The delay (2.5 s) stays below the gateway's upstream timeout (IMAGES_TIMEOUT_MS).",
          ),
          ...delivered,
        ],
        queries: [
          { name: 'images p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="images"}' },
          { name: 'gateway p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="gateway"}' },
        ],
        resolves: [resolves(latencyAlert, page('latency'))],
        afterRollback: [],
      };
    case 'error-burst':
      return {
        expectations: [
          fires(
            'error-ratio-alert',
            errorAlert,
            page('availability'),
            "Half of the requests fail: the 5xx ratio burns the budget far above the SLO page's 14.4× rate on both its windows for the whole `for:`.",
          ),
          traffic('auth-unaffected', 'Auth routes are unaffected', ['auth'], { minSuccessRatio: 0.99 }, 'Only Images fails; the gateway isolates upstreams.'),
          traffic(
            'errors-visible',
            'Images errors reach users as 503',
            ['images', 'storage'],
            { maxSuccessRatio: 0.9, failureStatuses: [503] },
            'Injected errors are 503 CHAOS_INJECTED_FAULT; the gateway passes 503 on (or opens its circuit: also 503).',
          ),
          ...delivered,
        ],
        queries: [
          { name: 'images 5xx ratio', promql: 'namespace_service:http_requests_5xx:ratio_rate2m{service="images"}' },
          { name: 'injected errors per second', promql: `sum(rate(chaos_injected_requests_total{${job},fault="errors"}[${v.signalRange}]))` },
        ],
        resolves: [resolves(errorAlert, page('availability'))],
        afterRollback: [],
      };
    case 'cpu-saturation':
      return {
        expectations: [
          signal(
            'cpu-up',
            'Images burns CPU (well above its idle level)',
            `${v.cpuByPod('images', faulted)} > 0.3`,
            'The burn runs in a worker thread of the service process (real CPU, what an HPA acts on). An idle instance uses a few hundredths of a core; 0.3 leaves room for a machine shared with other work.',
          ),
          signal(
            'fault-exported',
            'The active fault is visible as a metric',
            `chaos_fault_active{${job},fault="cpu"} == 1`,
            'Every toggle is exported, so dashboards show that a drill is running.',
          ),
          traffic(
            'served',
            'Requests keep being served',
            ['auth', 'images', 'storage'],
            { minSuccessRatio: 0.99 },
            'The event loop keeps answering while the worker burns CPU.',
          ),
          ...only('kubernetes', [hpaAboveMin(v, signal)]),
        ],
        queries: [{ name: 'images CPU (cores) by instance', promql: v.cpuByPod('images') }, ...(v.target === 'kubernetes' ? [hpaDesired(v)] : [])],
        resolves: [],
        afterRollback: [],
      };
    case 'error-budget-burn': {
      const slo = { service: 'images', slo: 'availability', severity: 'critical' };
      return {
        expectations: [
          fires(
            'budget-burn-page',
            ALERTS.availabilityBurn,
            slo,
            `${BUDGET_BURN_ERROR_SHARE * 100} % errors burn a 99.9 % budget 20× too fast: above the page's 14.4× over both its long and its short window.`,
          ),
          traffic('auth-unaffected', 'Auth routes are unaffected', ['auth'], { minSuccessRatio: 0.99 }, 'Only Images fails; the gateway isolates upstreams.'),
          traffic(
            'errors-small-but-visible',
            'A small share of Images requests fails, with 503',
            ['images', 'storage'],
            { minSuccessRatio: 0.9, maxSuccessRatio: 0.9999, failureStatuses: [503] },
            'The injected share is small: users mostly succeed, which is why only a burn-rate alert sees it.',
          ),
          ...delivered,
        ],
        queries: [
          { name: 'images availability budget remaining', promql: `slo:error_budget_remaining:ratio{service="images",slo="availability"}` },
          { name: 'images availability SLI error ratio (5m)', promql: `slo:sli_error:ratio_rate5m{service="images",slo="availability"}` },
          { name: 'images availability SLI error ratio (1h)', promql: `slo:sli_error:ratio_rate1h{service="images",slo="availability"}` },
        ],
        resolves: [resolves(ALERTS.availabilityBurn, slo)],
        afterRollback: [],
        budget: { service: 'images', slo: 'availability' },
      };
    }
    case 'load-spike':
      if (v.target !== 'kubernetes') throw new Error('load-spike runs on the kubernetes target only (it needs the HPA and the load generator component)');
      return {
        expectations: [
          hpaAboveMin(v, signal),
          traffic(
            'served',
            'Users keep being served during the spike',
            ['auth', 'images', 'storage'],
            { minSuccessRatio: 0.99 },
            'Scaling out adds capacity before requests fail.',
          ),
        ],
        queries: [hpaDesired(v), { name: 'images CPU (cores) by pod', promql: v.cpuByPod('images') }],
        resolves: [],
        afterRollback: [
          signal(
            'hpa-back-to-min',
            'The HPA returns to its minimum after the load stops',
            `${hpaDesiredSelector(v)} <= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_min_replicas`,
            'Scale-down waits for its stabilisation window, then removes at most one pod a minute (k8s/hpa/images-service.yaml), down to maxReplicas − minReplicas = 4 steps.',
            [...HPA_REACTION, { label: 'scaleDown stabilizationWindow', ms: 300_000 }, { label: 'scale-down policy (4 × 1 pod/min)', ms: 240_000 }],
          ),
        ],
      };
  }
}

type Signal = (id: string, description: string, query: string, why: string, extra?: readonly BoundPart[]) => PromqlExpectation;

/** What lies between CPU burning and the HPA's status (Kubernetes defaults): metrics-server's window and the HPA's sync. */
const HPA_REACTION: readonly BoundPart[] = [
  { label: 'metrics-server window', ms: 60_000 },
  { label: 'HPA sync', ms: 15_000 },
  { label: 'kube-state-metrics scrape', ms: 15_000 },
];

function hpaDesiredSelector(v: Vocabulary): string {
  return `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${v.namespace}",horizontalpodautoscaler="${v.workload?.('images')}"}`;
}

function hpaDesired(v: Vocabulary): RecordedQuery {
  return { name: 'HPA desired replicas (images)', promql: hpaDesiredSelector(v) };
}

function hpaAboveMin(v: Vocabulary, signal: Signal): PromqlExpectation {
  return signal(
    'hpa-scales',
    'The HPA wants more Images replicas than its minimum',
    `${hpaDesiredSelector(v)} > on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_min_replicas`,
    'CPU utilisation above the 50 % target scales out (k8s/hpa/images-service.yaml).',
    HPA_REACTION,
  );
}
