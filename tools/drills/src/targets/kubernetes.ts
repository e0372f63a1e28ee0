import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearFault, curlLine, setFault, type FaultName, type FaultSettings } from '../chaos-client.js';
import { ALERTS, SCENARIO_INFO, alertFires, alertSilent, assertPlannable, promql, traffic } from '../scenarios.js';
import type { DrillContext, Expectation, ProbeExpectation, ScenarioName, ScenarioPlan, Step, Target } from '../types.js';

/**
 * The Kubernetes target: the current kubectl context (or --context) and the namespaces of k8s/.
 * The seed's own actions (kubectl delete secret / pod, the readiness toggle); Prometheus,
 * Alertmanager and the gateway reached through `kubectl port-forward`. Alert delivery to Slack
 * cannot be read back from Slack itself, so it is checked through Alertmanager's own counter
 * alertmanager_notifications_total{integration="slack"} (scraped by Prometheus).
 */

export interface KubernetesOptions {
  context?: string;
  appNamespace?: string;
  monitoringNamespace?: string;
  /** Use this URL (e.g. the Ingress) for synthetic traffic instead of a port-forward to the gateway Service. */
  gatewayUrl?: string;
  /** Scale the observation bounds (1 = the real `for:` durations of monitoring/rules). */
  boundScale?: number;
}

/** Names from k8s/ (deployments/, services/, data/) and k8s/monitoring/. */
export const K8S = {
  app: 'app',
  monitoring: 'monitoring',
  secret: 'app-secrets',
  deployments: { gateway: 'api-service', auth: 'auth-service', images: 'images-service' },
  selector: (deployment: string) => `app.kubernetes.io/name=${deployment}`,
  postgres: 'statefulset/postgres',
  minio: 'statefulset/minio',
  prometheus: { service: 'svc/prometheus', port: 9090 },
  alertmanager: { service: 'svc/alertmanager', port: 9093 },
  gatewayService: { service: 'svc/api-service', port: 8080 },
  managementPort: 9464,
} as const;

/** Kubernetes-only alerts (monitoring/rules/kubernetes.alerts.yml). */
export const K8S_ALERTS = {
  configError: 'KubeContainerConfigError',
  podNotReady: 'KubePodNotReady',
  replicasMismatch: 'KubeDeploymentReplicasUnavailable',
} as const;

const TOKEN_VAR = 'chaosToken';

export class KubernetesTarget implements Target {
  readonly name = 'kubernetes' as const;
  gatewayUrl = 'http://127.0.0.1:<port-forward to svc/api-service>';
  prometheusUrl = 'http://127.0.0.1:<port-forward to svc/prometheus>';
  alertmanagerUrl = 'http://127.0.0.1:<port-forward to svc/alertmanager>';
  readonly environment: Record<string, string>;
  readonly settleMs = 300_000;
  readonly #options: KubernetesOptions;
  readonly #forwards: ChildProcess[] = [];
  readonly #scratch: string;

  constructor(options: KubernetesOptions = {}) {
    this.#options = options;
    if (options.gatewayUrl) this.gatewayUrl = options.gatewayUrl;
    this.environment = { context: options.context ?? '(current kubectl context)', appNamespace: this.#ns, monitoringNamespace: options.monitoringNamespace ?? K8S.monitoring };
    this.#scratch = join(tmpdir(), 'sre-drill-kubernetes');
  }

  get #ns(): string {
    return this.#options.appNamespace ?? K8S.app;
  }

  get #monNs(): string {
    return this.#options.monitoringNamespace ?? K8S.monitoring;
  }

  #bound(ms: number): number {
    return Math.round(ms * (this.#options.boundScale ?? 1));
  }

  /** `kubectl …` as shown and as run (with --context when given). */
  #kubectl(args: string[]): { line: string; run: () => Promise<string> } {
    const full = [...(this.#options.context ? ['--context', this.#options.context] : []), ...args];
    return {
      line: `kubectl ${full.map((a) => (/[\s"'{}$]/.test(a) ? `'${a}'` : a)).join(' ')}`,
      run: () =>
        new Promise((resolve, reject) => {
          execFile('kubectl', full, { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${stderr.trim() || err.message}`));
            else resolve(stdout.trim());
          });
        }),
    };
  }

  #step(description: string, args: string[]): Step {
    const k = this.#kubectl(args);
    return { description, command: k.line, run: k.run };
  }

  async #portForward(ns: string, resource: string, remotePort: number): Promise<string> {
    const args = [...(this.#options.context ? ['--context', this.#options.context] : []), 'port-forward', '-n', ns, resource, `:${remotePort}`];
    const child = spawn('kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#forwards.push(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward ${resource} did not start within 20 s`)), 20_000);
      let errText = '';
      child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(d.toString());
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward ${resource} exited (${code}): ${errText.trim()}`));
      });
    });
  }

  async connect(ctx: DrillContext): Promise<void> {
    this.prometheusUrl = await this.#portForward(this.#monNs, K8S.prometheus.service, K8S.prometheus.port);
    this.alertmanagerUrl = await this.#portForward(this.#monNs, K8S.alertmanager.service, K8S.alertmanager.port);
    if (!this.#options.gatewayUrl) this.gatewayUrl = await this.#portForward(this.#ns, K8S.gatewayService.service, K8S.gatewayService.port);
    ctx.log(`port-forwards: Prometheus ${this.prometheusUrl}, Alertmanager ${this.alertmanagerUrl}, gateway ${this.gatewayUrl}`);
  }

  async disconnect(): Promise<void> {
    for (const f of this.#forwards.splice(0)) f.kill('SIGTERM');
  }

  async healthProblems(): Promise<string[]> {
    const out = await this.#kubectl(['get', 'deployments', '-n', this.#ns, '-o', 'json']).run();
    const list = JSON.parse(out) as { items: Array<{ metadata: { name: string }; spec: { replicas?: number }; status: { availableReplicas?: number; updatedReplicas?: number } }> };
    return list.items
      .filter((d) => (d.status.availableReplicas ?? 0) < (d.spec.replicas ?? 1) || (d.status.updatedReplicas ?? 0) < (d.spec.replicas ?? 1))
      .map((d) => `deployment ${d.metadata.name}: ${d.status.availableReplicas ?? 0}/${d.spec.replicas ?? 1} available`);
  }

  async logs(source: string, sinceMs: number): Promise<string[]> {
    const since = `${Math.max(1, Math.ceil((Date.now() - sinceMs) / 1000))}s`;
    const out = await this.#kubectl(['logs', '-n', this.#ns, '-l', K8S.selector(source), '--all-containers', '--prefix', '--tail=200', `--since=${since}`]).run();
    return out.split('\n').filter(Boolean);
  }

  /** Resolves one pod of a deployment into ctx.vars[varName] (the first Running one). */
  #resolvePod(deployment: string, varName: string): Step {
    const k = this.#kubectl(['get', 'pods', '-n', this.#ns, '-l', K8S.selector(deployment), '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[0].metadata.name}']);
    return {
      description: `Pick one running pod of ${deployment} (→ <${varName}>)`,
      command: k.line,
      run: async (ctx) => {
        const pod = await k.run();
        if (!pod) throw new Error(`no running pod of ${deployment}`);
        ctx.vars.set(varName, pod);
        return pod;
      },
    };
  }

  #readToken(): Step {
    const k = this.#kubectl(['get', 'secret', K8S.secret, '-n', this.#ns, '-o', 'jsonpath={.data.CHAOS_ADMIN_TOKEN}']);
    return {
      description: 'Read the chaos admin token from the Secret (kept in memory, never printed)',
      command: `${k.line} | base64 -d`,
      run: async (ctx) => {
        const b64 = await k.run();
        if (!b64) throw new Error(`${K8S.secret} has no CHAOS_ADMIN_TOKEN: apply k8s/ with the chaos component (k8s/components/chaos)`);
        ctx.vars.set(TOKEN_VAR, Buffer.from(b64, 'base64').toString('utf8'));
        return 'token read';
      },
    };
  }

  /** Fault on one named pod (podVar) or on every pod of the deployment. */
  #fault(deployment: string, fault: FaultName, settings: FaultSettings | undefined, podVar?: string): Step {
    const method = settings ? 'PUT' : 'DELETE';
    const who = podVar ? `pod <${podVar}>` : `every pod of ${deployment}`;
    const listPods = this.#kubectl(['get', 'pods', '-n', this.#ns, '-l', K8S.selector(deployment), '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}']);
    const forward = `kubectl port-forward -n ${this.#ns} pod/${podVar ? `<${podVar}>` : '<each pod>'} :${K8S.managementPort}`;
    return {
      description: `${settings ? 'Switch on' : 'Switch off'} fault '${fault}' on ${who} (management port, admin token)`,
      command: `${podVar ? '' : `${listPods.line}; `}${forward} & ${curlLine(method, 'http://127.0.0.1:<forwarded port>', fault, settings)}`,
      run: async (ctx) => {
        const token = ctx.vars.get(TOKEN_VAR);
        if (!token) throw new Error('no chaos token (the token step did not run)');
        const pods = podVar ? [ctx.vars.get(podVar) ?? ''] : (await listPods.run()).split(/\s+/).filter(Boolean);
        const out: string[] = [];
        for (const pod of pods) {
          const url = await this.#portForward(this.#ns, `pod/${pod}`, K8S.managementPort);
          out.push(`${pod}: ${settings ? await setFault(url, token, fault, settings) : await clearFault(url, token, fault)}`);
        }
        return out.join('\n');
      },
    };
  }

  #probe(id: string, description: string, args: string[], test: (out: string) => string | undefined, withinMs: number, why: string): ProbeExpectation {
    const k = this.#kubectl(args);
    return { id, kind: 'probe', description, check: k.line, withinMs, why, probe: async () => test(await k.run()) };
  }

  #deploymentAvailable(deployment: string, withinMs: number): ProbeExpectation {
    return this.#probe(
      `${deployment}-available`,
      `${deployment} has all its replicas available again`,
      ['get', 'deployment', deployment, '-n', this.#ns, '-o', 'jsonpath={.status.availableReplicas}/{.spec.replicas}'],
      (out) => {
        const [a, w] = out.split('/').map(Number);
        return a !== undefined && w !== undefined && a >= w && w > 0 ? `available ${out}` : undefined;
      },
      withinMs,
      'The ReplicaSet replaces a deleted pod; with maxUnavailable 0 and a PDB the Deployment is back to full strength.',
    );
  }

  #slackDelivered(withinMs: number): Expectation {
    return promql(
      'slack-delivery',
      'Alertmanager delivered notifications to Slack without failures',
      'increase(alertmanager_notifications_total{integration="slack"}[10m]) > 0 unless on () increase(alertmanager_notifications_failed_total{integration="slack"}[10m]) > 0',
      withinMs,
      'Slack itself cannot be read back; Alertmanager counts every delivery attempt and failure per integration.',
    );
  }

  plan(scenario: ScenarioName): ScenarioPlan {
    const info = SCENARIO_INFO[scenario];
    const d = K8S.deployments;
    const ns = this.#ns;
    const b = (ms: number) => this.#bound(ms);
    // Bounds: `for:` + a scrape interval + evaluation + Alertmanager group_wait (monitoring/), with margin.
    const oneMinuteAlert = b(180_000);
    const base = { scenario, title: info.title, summary: info.summary, target: 'kubernetes' as const };
    let plan: Omit<ScenarioPlan, keyof typeof base>;
    const faultMs = 15 * 60_000;

    switch (scenario) {
      case 'secret-deletion': {
        const backupHint = '<drill scratch dir>/app-secrets.json';
        const backup = this.#kubectl(['get', 'secret', K8S.secret, '-n', ns, '-o', 'json']);
        const del = this.#kubectl(['delete', 'secret', K8S.secret, '-n', ns]);
        const restart = this.#kubectl(['rollout', 'restart', `deployment/${d.auth}`, '-n', ns]);
        const restore = this.#kubectl(['apply', '-f', backupHint]);
        plan = {
          inject: [
            {
              description: `Back up ${K8S.secret} to a private file (mode 600) for the rollback`,
              command: `${backup.line} > ${backupHint}`,
              run: async (ctx) => {
                const json = JSON.parse(await backup.run()) as { metadata: Record<string, unknown> };
                // Server-set fields would make the re-apply conflict.
                for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields']) delete json.metadata[f];
                const dir = mkdtempSync(`${this.#scratch}-`);
                chmodSync(dir, 0o700);
                const file = join(dir, 'app-secrets.json');
                writeFileSync(file, JSON.stringify(json), { mode: 0o600 });
                ctx.vars.set('secretBackup', file);
                return `backed up to ${file}`;
              },
            },
            { description: `Delete the Secret (the seed's action)`, command: del.line, run: del.run },
            { description: `Restart ${d.auth} so that new pods need the missing Secret`, command: restart.line, run: restart.run },
          ],
          rollback: [
            {
              description: `Restore ${K8S.secret} from the backup (then delete the backup)`,
              command: restore.line,
              run: async (ctx) => {
                const file = ctx.vars.get('secretBackup');
                if (!file) return 'no backup was taken: nothing to restore';
                const out = await this.#kubectl(['apply', '-f', file]).run();
                rmSync(join(file, '..'), { recursive: true, force: true });
                return out;
              },
            },
            this.#step(`Wait for ${d.auth} to roll out with the restored Secret`, ['rollout', 'status', `deployment/${d.auth}`, '-n', ns, '--timeout=300s']),
          ],
          expectations: [
            this.#probe(
              'config-error',
              `A new ${d.auth} pod waits with CreateContainerConfigError`,
              ['get', 'pods', '-n', ns, '-l', K8S.selector(d.auth), '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[*].state.waiting.reason}{"\\n"}{end}'],
              (out) => out.split('\n').find((l) => l.includes('CreateContainerConfigError')),
              b(90_000),
              'The kubelet cannot build the container environment without the Secret; the pod never starts.',
            ),
            alertFires('config-error-alert', K8S_ALERTS.configError, { namespace: ns }, oneMinuteAlert, 'kube-state-metrics exports the waiting reason; the seed asks for detection within 2 minutes.'),
            traffic('old-pods-serve', 'Users keep logging in: the old pods keep serving during the stuck rollout', ['auth', 'images', 'storage'], { minSuccessRatio: 0.99 }, 'maxUnavailable 0: the old ReplicaSet stays until new pods are ready, so a broken Secret stops the rollout, not the service.'),
            this.#slackDelivered(oneMinuteAlert),
          ],
          queries: [
            { name: 'pods waiting (config error)', promql: `sum(kube_pod_container_status_waiting_reason{namespace="${ns}",reason="CreateContainerConfigError"})` },
            { name: 'auth replicas available', promql: `kube_deployment_status_replicas_available{namespace="${ns}",deployment="${d.auth}"}` },
          ],
          minObserveMs: b(30_000),
          maxObserveMs: b(240_000),
          recoverWithinMs: b(300_000),
          resolves: [K8S_ALERTS.configError],
          logSources: [d.auth],
        };
        break;
      }
      case 'pod-deletion': {
        const del = this.#kubectl(['delete', 'pod', '<pod>', '-n', ns, '--wait=false']);
        plan = {
          inject: [
            this.#resolvePod(d.images, 'pod'),
            {
              description: 'Delete that pod (the seed\'s action)',
              command: del.line,
              run: (ctx) => this.#kubectl(['delete', 'pod', ctx.vars.get('pod') ?? '', '-n', ns, '--wait=false']).run(),
            },
          ],
          rollback: [this.#step(`Wait for ${d.images} to be complete again (nothing to undo: the ReplicaSet replaces the pod)`, ['rollout', 'status', `deployment/${d.images}`, '-n', ns, '--timeout=180s'])],
          expectations: [
            traffic('no-failed-request', 'Not one request fails while a pod is deleted and replaced', ['auth', 'images', 'storage'], { minSuccessRatio: 1 }, 'Two replicas, a PDB, readiness-gated endpoints and graceful shutdown (drain delay) mean the other pod takes every request.'),
            this.#deploymentAvailable(d.images, b(120_000)),
            alertSilent('no-page', ALERTS.serviceDown, { service: 'images' }, 'One of two replicas lost and replaced is not an incident; the `for:` durations are chosen so it does not page.'),
            alertSilent('no-replicas-alert', K8S_ALERTS.replicasMismatch, { deployment: d.images }, 'The replacement is ready long before the alert\'s `for:`.'),
          ],
          queries: [
            { name: 'images pods ready', promql: `sum(kube_pod_status_ready{namespace="${ns}",condition="true",pod=~"${d.images}-.*"})` },
            { name: 'images request rate', promql: 'sum(rate(http_requests_total{job="platform",service="images"}[1m]))' },
          ],
          minObserveMs: b(60_000),
          maxObserveMs: b(180_000),
          recoverWithinMs: b(180_000),
          resolves: [],
          logSources: [d.images],
        };
        break;
      }
      case 'readiness-failure':
        plan = {
          inject: [this.#readToken(), this.#resolvePod(d.images, 'pod'), this.#fault(d.images, 'readiness', { durationMs: faultMs }, 'pod')],
          rollback: [this.#readToken(), this.#fault(d.images, 'readiness', undefined, 'pod')],
          expectations: [
            alertFires('not-ready-alert', ALERTS.notReady, { service: 'images', check: 'chaos' }, oneMinuteAlert, 'service_health_check_status{check="chaos"} is 0 on that pod; the seed asks for detection within 2 minutes.'),
            alertFires('pod-not-ready-alert', K8S_ALERTS.podNotReady, { service: 'images' }, oneMinuteAlert, 'kube-state-metrics reports the pod not ready; KubePodNotReady is a warning like ServiceNotReady (both reach Slack unless a critical alert of the service inhibits them).'),
            promql('out-of-endpoints', 'The pod is marked not ready (out of the Service endpoints)', `kube_pod_status_ready{namespace="${ns}",condition="false",pod=~"${d.images}-.*"} == 1`, b(60_000), 'The kubelet\'s readiness probe fails, so the endpoints controller stops sending traffic to it.'),
            traffic('no-failed-request', 'Users see no failure: the other pod serves', ['auth', 'images', 'storage'], { minSuccessRatio: 0.999 }, 'Readiness removes the pod from load balancing; nothing is restarted.'),
            this.#slackDelivered(oneMinuteAlert),
          ],
          queries: [
            { name: 'readiness checks failing', promql: 'sum(service_health_check_status{job="platform",service="images"} == 0)' },
            { name: 'images pods ready', promql: `sum(kube_pod_status_ready{namespace="${ns}",condition="true",pod=~"${d.images}-.*"})` },
          ],
          minObserveMs: b(20_000),
          maxObserveMs: b(240_000),
          recoverWithinMs: b(120_000),
          resolves: [ALERTS.notReady],
          logSources: [d.images],
        };
        break;
      case 'database-outage':
        plan = {
          inject: [this.#step('Stop PostgreSQL (scale its StatefulSet to 0)', ['scale', K8S.postgres, '-n', ns, '--replicas=0'])],
          rollback: [
            this.#step('Start PostgreSQL again', ['scale', K8S.postgres, '-n', ns, '--replicas=1']),
            this.#step('Wait for PostgreSQL to be ready', ['rollout', 'status', K8S.postgres, '-n', ns, '--timeout=240s']),
          ],
          expectations: [
            alertFires('auth-db-alert', ALERTS.dependencyDown, { service: 'auth', check: 'database' }, oneMinuteAlert, 'Every Auth pod fails its database readiness check.'),
            alertFires('images-db-alert', ALERTS.dependencyDown, { service: 'images', check: 'database' }, oneMinuteAlert, 'Every Images pod fails its database readiness check.'),
            traffic('fast-503', 'Requests needing the database fail fast with 503', ['auth', 'images'], { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 }, 'Pools time out quickly and errors map to the catalogued 503, so clients can retry instead of hanging.'),
            this.#slackDelivered(oneMinuteAlert),
          ],
          queries: [
            { name: 'database checks failing', promql: 'sum(service_health_check_status{job="platform",check="database"} == 0)' },
            { name: '5xx rate', promql: 'sum(rate(http_requests_total{job="platform",status_code=~"5.."}[1m]))' },
          ],
          minObserveMs: b(20_000),
          maxObserveMs: b(240_000),
          recoverWithinMs: b(300_000),
          resolves: [ALERTS.dependencyDown],
          logSources: [d.auth, d.images],
        };
        break;
      case 'storage-outage':
        plan = {
          inject: [this.#step('Stop MinIO (scale its StatefulSet to 0)', ['scale', K8S.minio, '-n', ns, '--replicas=0'])],
          rollback: [
            this.#step('Start MinIO again', ['scale', K8S.minio, '-n', ns, '--replicas=1']),
            this.#step('Wait for MinIO to be ready', ['rollout', 'status', K8S.minio, '-n', ns, '--timeout=240s']),
          ],
          expectations: [
            alertFires('storage-alert', ALERTS.dependencyDown, { service: 'images', check: 'storage' }, oneMinuteAlert, 'Every Images pod fails its storage readiness check.'),
            traffic('login-works', 'Login and the rest of Auth keep working', ['auth'], { minSuccessRatio: 0.99 }, 'Auth does not depend on object storage; the gateway isolates upstreams.'),
            traffic('fast-503', 'Reading pictures fails fast with 503', ['storage'], { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 }, 'Storage errors map to IMAGES_STORAGE_UNAVAILABLE (503) with a bounded timeout.'),
            this.#slackDelivered(oneMinuteAlert),
          ],
          queries: [{ name: 'storage checks failing', promql: 'sum(service_health_check_status{job="platform",check="storage"} == 0)' }],
          minObserveMs: b(20_000),
          maxObserveMs: b(240_000),
          recoverWithinMs: b(300_000),
          resolves: [ALERTS.dependencyDown],
          logSources: [d.images],
        };
        break;
      case 'upstream-latency':
        plan = {
          inject: [this.#readToken(), this.#fault(d.images, 'latency', { durationMs: faultMs, latencyMs: 2500 })],
          rollback: [this.#readToken(), this.#fault(d.images, 'latency', undefined)],
          expectations: [
            alertFires('latency-alert', ALERTS.latency, { service: 'images' }, b(330_000), 'p99 above 2 s for 3 minutes (monitoring/rules).'),
            traffic('auth-fast', 'Auth routes stay available', ['auth'], { minSuccessRatio: 0.99 }, 'The gateway keeps a separate timeout and circuit per upstream.'),
            this.#slackDelivered(b(330_000)),
          ],
          queries: [
            { name: 'images p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="images"}' },
            { name: 'gateway p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="gateway"}' },
          ],
          minObserveMs: b(20_000),
          maxObserveMs: b(420_000),
          recoverWithinMs: b(300_000),
          resolves: [ALERTS.latency],
          logSources: [d.gateway, d.images],
        };
        break;
      case 'error-burst':
        plan = {
          inject: [this.#readToken(), this.#fault(d.images, 'errors', { durationMs: faultMs, share: 0.5 })],
          rollback: [this.#readToken(), this.#fault(d.images, 'errors', undefined)],
          expectations: [
            alertFires('error-ratio-alert', ALERTS.errorRatio, { service: 'images' }, b(300_000), '5xx ratio above 5% for 2 minutes (monitoring/rules).'),
            traffic('auth-unaffected', 'Auth routes are unaffected', ['auth'], { minSuccessRatio: 0.99 }, 'Only Images fails; the gateway isolates upstreams.'),
            traffic('errors-visible', 'Images errors are visible to users as 503', ['images', 'storage'], { maxSuccessRatio: 0.9, failureStatuses: [503] }, 'Injected errors are 503 CHAOS_INJECTED_FAULT; the gateway passes 503 on (or opens its circuit: also 503).'),
            this.#slackDelivered(b(300_000)),
          ],
          queries: [{ name: 'images 5xx ratio', promql: 'namespace_service:http_requests_5xx:ratio_rate2m{service="images"}' }],
          minObserveMs: b(20_000),
          maxObserveMs: b(360_000),
          recoverWithinMs: b(300_000),
          resolves: [ALERTS.errorRatio],
          logSources: [d.gateway, d.images],
        };
        break;
      case 'cpu-saturation':
        plan = {
          inject: [this.#readToken(), this.#fault(d.images, 'cpu', { durationMs: faultMs, workers: 1 })],
          rollback: [this.#readToken(), this.#fault(d.images, 'cpu', undefined)],
          expectations: [
            promql('cpu-up', 'Images containers use CPU near their limit', `sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="${ns}",pod=~"${d.images}-.*",container!=""}[1m])) > 0.2`, b(120_000), 'cAdvisor reports the burn; this is what the HPA reads through metrics-server.'),
            promql('hpa-scales', 'The HPA wants more Images replicas than its minimum', `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${ns}",horizontalpodautoscaler="${d.images}"} > on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_min_replicas`, b(240_000), 'CPU utilisation above the 50% target scales out (k8s/hpa/images-service.yaml).'),
            traffic('served', 'Requests keep being served', ['auth', 'images', 'storage'], { minSuccessRatio: 0.99 }, 'The burn runs in worker threads; the event loop keeps answering.'),
          ],
          queries: [
            { name: 'images CPU (cores)', promql: `sum(rate(container_cpu_usage_seconds_total{namespace="${ns}",pod=~"${d.images}-.*",container!=""}[1m]))` },
            { name: 'HPA desired replicas', promql: `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${ns}",horizontalpodautoscaler="${d.images}"}` },
          ],
          minObserveMs: b(20_000),
          maxObserveMs: b(300_000),
          recoverWithinMs: b(120_000),
          resolves: [],
          logSources: [d.images],
        };
        break;
    }
    assertPlannable(scenario, plan.expectations);
    return { ...base, ...plan };
  }
}
