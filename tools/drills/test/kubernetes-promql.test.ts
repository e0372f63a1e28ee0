import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { freePort, requireTool, waitFor } from '@sre/testkit';
import { startPrometheus, type ServerProcess } from '@sre/monitoring/testing';
import { ruleFiles, scaledRules } from '@sre/observe/config';
import { labelsMatch, promAlerts, promQuery } from '../src/observability.js';
import { K8S, KubernetesTarget } from '../src/targets/kubernetes.js';
import { SCENARIOS, type ScenarioName } from '../src/types.js';

/**
 * The Kubernetes target's PromQL, run by a real Prometheus on replayed kube-state-metrics, cAdvisor,
 * Alertmanager and platform series (issue 10: `sum(x == 0)` can never be true, and nothing noticed).
 * A small exposition server replays the series a cluster shows before and during each fault; for
 * every PromQL expectation of every Kubernetes plan the test asserts it returns nothing while the
 * cluster is healthy and a series once the fault is on, and that the Kubernetes-only alerts a plan
 * waits for fire with the labels it expects (the monitoring rules loaded at time scale 60, so a
 * `for: 1m` is a second).
 */

const skip = requireTool('prometheus', 'apt-get install prometheus').skip;
const ns = K8S.app;
const pods = { auth: 'auth-service-7d9f-abcde', images: 'images-service-5c8b-fghij', images2: 'images-service-5c8b-klmno' };

type Phase = 'healthy' | 'fault';
let phase: Phase = 'healthy';
let phaseStarted = Date.now();
/** Counters grow at a per-phase rate from where the previous phase left them. */
const counters = new Map<string, { base: number; perSecond: Record<Phase, number> }>();

function counter(name: string, perSecond: Record<Phase, number>): number {
  const c = counters.get(name) ?? { base: 0, perSecond };
  counters.set(name, c);
  return c.base + c.perSecond[phase] * ((Date.now() - phaseStarted) / 1000);
}

function setPhase(next: Phase): void {
  for (const [name, c] of counters) c.base = counter(name, c.perSecond);
  phase = next;
  phaseStarted = Date.now();
}

const line = (name: string, labels: Record<string, string>, value: number) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}} ${value}`;

/** What kube-state-metrics (and cAdvisor, Alertmanager, the services) expose, healthy or during the faults. */
function exposition(): string {
  const fault = phase === 'fault';
  const ksm = { job: 'kube-state-metrics', namespace: ns };
  const out: string[] = [];
  for (const [service, pod] of [
    ['auth', pods.auth],
    ['images', pods.images],
    ['images', pods.images2],
  ] as const) {
    out.push(line('kube_pod_labels', { ...ksm, pod, label_app_kubernetes_io_component: service, label_app_kubernetes_io_name: `${service}-service` }, 1));
    out.push(line('kube_pod_status_phase', { ...ksm, pod, phase: 'Running' }, 1));
    const notReady = fault && pod === pods.images;
    out.push(line('kube_pod_status_ready', { ...ksm, pod, condition: 'true' }, notReady ? 0 : 1));
    out.push(line('kube_pod_status_ready', { ...ksm, pod, condition: 'false' }, notReady ? 1 : 0));
    const container = `${service}-service`;
    out.push(
      line(
        'container_cpu_usage_seconds_total',
        { job: 'kubelet', namespace: ns, pod, container },
        counter(`cpu-${pod}`, { healthy: 0.01, fault: pod === pods.images ? 0.9 : 0.01 }),
      ),
    );
  }
  if (fault)
    out.push(
      line(
        'kube_pod_container_status_waiting_reason',
        { ...ksm, pod: 'auth-service-new-pqrst', container: 'auth-service', reason: 'CreateContainerConfigError' },
        1,
      ),
    );
  out.push(line('kube_pod_labels', { ...ksm, pod: 'auth-service-new-pqrst', label_app_kubernetes_io_component: 'auth' }, 1));
  for (const [service, deployment] of Object.entries(K8S.deployments)) {
    out.push(line('kube_deployment_labels', { ...ksm, deployment, label_app_kubernetes_io_component: service }, 1));
    out.push(line('kube_deployment_spec_replicas', { ...ksm, deployment }, 2));
    out.push(line('kube_deployment_status_replicas_available', { ...ksm, deployment }, 2));
  }
  out.push(line('kube_horizontalpodautoscaler_spec_min_replicas', { ...ksm, horizontalpodautoscaler: K8S.deployments.images }, 2));
  out.push(line('kube_horizontalpodautoscaler_spec_max_replicas', { ...ksm, horizontalpodautoscaler: K8S.deployments.images }, 6));
  out.push(line('kube_horizontalpodautoscaler_status_desired_replicas', { ...ksm, horizontalpodautoscaler: K8S.deployments.images }, fault ? 4 : 2));
  const am = { job: 'alertmanager', namespace: 'monitoring' };
  out.push(line('alertmanager_notifications_total', { ...am, integration: 'slack' }, counter('am-slack', { healthy: 0, fault: 0.5 })));
  out.push(line('alertmanager_notifications_failed_total', { ...am, integration: 'slack' }, 0));
  const platform = { job: 'platform', namespace: ns, service: 'images', pod: pods.images };
  out.push(line('chaos_fault_active', { ...platform, fault: 'cpu' }, fault ? 1 : 0));
  out.push(line('service_health_check_status', { ...platform, check: 'chaos' }, fault ? 0 : 1));
  return `${out.join('\n')}\n`;
}

const dir = mkdtempSync(join(tmpdir(), 'drill-k8s-promql-'));
let server: Server | undefined;
let prom: ServerProcess | undefined;

/** Every PromQL expectation of every Kubernetes plan, and when it must hold. */
function expectations() {
  const target = new KubernetesTarget();
  return SCENARIOS.flatMap((scenario: ScenarioName) => {
    const plan = target.plan(scenario);
    return [
      ...plan.expectations.flatMap((e) => (e.kind === 'promql' ? [{ scenario, id: e.id, query: e.query, holdsIn: 'fault' as Phase }] : [])),
      // After rollback the cluster is healthy again: those signals must hold then.
      ...(plan.afterRollback ?? []).map((e) => ({ scenario, id: e.id, query: e.query, holdsIn: 'healthy' as Phase })),
    ];
  });
}

async function seriesCount(query: string): Promise<number> {
  return (await promQuery((prom as ServerProcess).url, query)).length;
}

describe('kubernetes target PromQL on a real Prometheus with replayed kube-state-metrics series', { skip, timeout: 300_000 }, () => {
  before(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition());
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    const rules = ruleFiles().map((file) => {
      const out = join(rulesDir, file.split('/').at(-1) as string);
      writeFileSync(out, scaledRules(file, 60, 1));
      return out;
    });
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
      rule_files: rules,
      // honor_labels: the replayed series carry the job and namespace labels the cluster's jobs give them.
      scrape_configs: [{ job_name: 'replay', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    prom = await startPrometheus(join(dir, 'prometheus.yml'), join(dir, 'tsdb'), await freePort());
    await waitFor(async () => (await seriesCount('kube_pod_labels')) > 0, { timeoutMs: 30_000, what: 'the replayed series scraped' });
    // Let every window of the drills' queries see the healthy cluster for a few scrapes.
    await new Promise((r) => setTimeout(r, 5000));
  });
  after(async () => {
    await prom?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('every PromQL expectation is false on a healthy cluster and turns true during its fault', async () => {
    const all = expectations();
    assert.ok(all.length >= 6, `expectations found: ${all.map((e) => e.id).join(', ')}`);
    for (const e of all.filter((x) => x.holdsIn === 'fault'))
      assert.equal(await seriesCount(e.query), 0, `${e.scenario}/${e.id} already holds on a healthy cluster: ${e.query}`);
    for (const e of all.filter((x) => x.holdsIn === 'healthy'))
      assert.ok((await seriesCount(e.query)) > 0, `${e.scenario}/${e.id} does not hold on a healthy cluster: ${e.query}`);
    setPhase('fault');
    try {
      for (const e of all.filter((x) => x.holdsIn === 'fault')) {
        await waitFor(async () => (await seriesCount(e.query)) > 0, { timeoutMs: 90_000, intervalMs: 1000, what: `${e.scenario}/${e.id}: ${e.query}` });
      }
      for (const e of all.filter((x) => x.holdsIn === 'healthy'))
        assert.equal(await seriesCount(e.query), 0, `${e.scenario}/${e.id} holds during the fault: ${e.query}`);
      // A query of the shape issue 10 found can never tell a fault from health: the same check catches it.
      assert.ok(
        (await seriesCount(`sum(kube_pod_status_ready{namespace="${ns}",condition="false"} == 0)`)) > 0,
        'sum(x == 0) returns a series whatever the state',
      );

      // The Kubernetes-only alerts the plans wait for fire with the labels they expect (service from kube_pod_labels).
      const target = new KubernetesTarget();
      const waited = (['secret-deletion', 'readiness-failure'] as const).flatMap((s) =>
        target.plan(s).expectations.filter((e) => e.kind === 'alert-fires' && e.alertname.startsWith('Kube')),
      );
      assert.deepEqual(waited.map((e) => (e.kind === 'alert-fires' ? e.alertname : '')).sort(), ['KubeContainerConfigError', 'KubePodNotReady']);
      for (const e of waited) {
        if (e.kind !== 'alert-fires') continue;
        await waitFor(
          async () =>
            (await promAlerts((prom as ServerProcess).url)).some(
              (a) => a.labels.alertname === e.alertname && a.state === 'firing' && labelsMatch(a.labels, e.labels),
            ),
          { timeoutMs: 60_000, what: `${e.alertname} ${JSON.stringify(e.labels)} firing` },
        );
      }
      // The readiness chart counts the failing checks: 1 during the fault (the old `sum(x == 0)` summed zeros: always 0).
      const failing = target.plan('readiness-failure').queries.find((q) => q.promql.includes('service_health_check_status'));
      assert.ok(failing);
      assert.equal((await promQuery((prom as ServerProcess).url, failing.promql))[0]?.value, 1, failing.promql);
      // The recorded queries on kube-state-metrics series evaluate to data during the fault.
      for (const scenario of ['secret-deletion', 'cpu-saturation', 'load-spike'] as const) {
        for (const q of target.plan(scenario).queries.filter((x) => x.promql.includes('kube_')))
          assert.ok((await seriesCount(q.promql)) > 0, `${scenario}: recorded query ${q.name} has no data: ${q.promql}`);
      }
    } finally {
      setPhase('healthy');
    }
  });
});
