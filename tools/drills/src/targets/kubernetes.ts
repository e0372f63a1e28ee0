import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearFault, curlLine, setFault, type FaultName, type FaultSettings } from '../chaos-client.js';
import { parse } from 'yaml';
import { MONITORING_DIR, parseDuration } from '@sre/observe/config';
import { BoundDeriver } from '../bounds/derive.js';
import { BUDGET_BURN_ERROR_SHARE, LOAD_SPIKE_REPLICAS, sharedExpectations, type Vocabulary } from '../definitions.js';
import { assemble, type TargetPart } from '../scenarios.js';
import type { DrillContext, ProbeExpectation, ScenarioName, ScenarioPlan, Step, Target } from '../types.js';

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

/** The load generator of issue 11, deployed by the opt-in component (created with replicas 0). */
export const LOADGENERATOR = { component: 'k8s/components/loadgenerator', deployment: 'deployment/loadgenerator' } as const;

const TOKEN_VAR = 'chaosToken';

export class KubernetesTarget implements Target {
  readonly name = 'kubernetes' as const;
  gatewayUrl = 'http://127.0.0.1:<port-forward to svc/api-service>';
  prometheusUrl = 'http://127.0.0.1:<port-forward to svc/prometheus>';
  alertmanagerUrl = 'http://127.0.0.1:<port-forward to svc/alertmanager>';
  readonly environment: Record<string, string>;
  readonly #options: KubernetesOptions;
  readonly #forwards: ChildProcess[] = [];
  readonly #scratch: string;
  #bounds: BoundDeriver | undefined;

  constructor(options: KubernetesOptions = {}) {
    this.#options = options;
    if (options.gatewayUrl) this.gatewayUrl = options.gatewayUrl;
    this.environment = {
      context: options.context ?? '(current kubectl context)',
      appNamespace: this.#ns,
      monitoringNamespace: options.monitoringNamespace ?? K8S.monitoring,
    };
    this.#scratch = join(tmpdir(), 'sre-drill-kubernetes');
  }

  /** An earlier drill's alerts must resolve first: at most the longest resolve bound of monitoring/rules. */
  get settleMs(): number {
    return this.bounds.settleMs();
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
    const list = JSON.parse(out) as {
      items: Array<{ metadata: { name: string }; spec: { replicas?: number }; status: { availableReplicas?: number; updatedReplicas?: number } }>;
    };
    return list.items
      .filter((d) => (d.status.availableReplicas ?? 0) < (d.spec.replicas ?? 1) || (d.status.updatedReplicas ?? 0) < (d.spec.replicas ?? 1))
      .map((d) => `deployment ${d.metadata.name}: ${d.status.availableReplicas ?? 0}/${d.spec.replicas ?? 1} available`);
  }

  async logs(source: string, sinceMs: number): Promise<string[]> {
    const since = `${Math.max(1, Math.ceil((Date.now() - sinceMs) / 1000))}s`;
    const out = await this.#kubectl([
      'logs',
      '-n',
      this.#ns,
      '-l',
      K8S.selector(source),
      '--all-containers',
      '--prefix',
      '--tail=200',
      `--since=${since}`,
    ]).run();
    return out.split('\n').filter(Boolean);
  }

  /** Resolves one pod of a deployment into ctx.vars[varName] (the first Running one). */
  #resolvePod(deployment: string, varName: string): Step {
    const k = this.#kubectl([
      'get',
      'pods',
      '-n',
      this.#ns,
      '-l',
      K8S.selector(deployment),
      '--field-selector=status.phase=Running',
      '-o',
      'jsonpath={.items[0].metadata.name}',
    ]);
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
    const listPods = this.#kubectl([
      'get',
      'pods',
      '-n',
      this.#ns,
      '-l',
      K8S.selector(deployment),
      '--field-selector=status.phase=Running',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
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

  /** Rules and routes at real time, with the cluster Prometheus' intervals (monitoring/prometheus/prometheus.yml). */
  get bounds(): BoundDeriver {
    if (!this.#bounds) {
      const global =
        (
          parse(readFileSync(join(MONITORING_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as {
            global?: { scrape_interval?: string; evaluation_interval?: string };
          }
        ).global ?? {};
      const scrapeIntervalMs = parseDuration(global.scrape_interval ?? '1m');
      this.#bounds = new BoundDeriver({
        timeScale: 1,
        scrapeIntervalMs,
        evaluationIntervalMs: parseDuration(global.evaluation_interval ?? '1m'),
        // What no rule says: kubelet probe periods, kube-state-metrics' own refresh, port-forwards;
        // --bound-scale stretches it for a slow cluster.
        slackMs: Math.round(60_000 * (this.#options.boundScale ?? 1)),
      });
    }
    return this.#bounds;
  }

  get vocabulary(): Vocabulary {
    const ns = this.#ns;
    const d = K8S.deployments;
    return {
      target: 'kubernetes',
      namespace: ns,
      podsOf: (service) => `pod=~"${d[service]}-.*"`,
      faultedPod: () => undefined,
      signalRange: '1m',
      cpuByPod: (service) => `sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="${ns}",pod=~"${d[service]}-.*",container!=""}[1m]))`,
      readableSink: false,
      workload: (service) => d[service],
    };
  }

  plan(scenario: ScenarioName): ScenarioPlan {
    return assemble(scenario, 'kubernetes', sharedExpectations(scenario, this.vocabulary, this.bounds), this.#part(scenario));
  }

  #part(scenario: ScenarioName): TargetPart {
    const d = K8S.deployments;
    const ns = this.#ns;
    const b = (ms: number) => this.#bound(ms);
    const faultMs = 15 * 60_000;
    const chaos = (fault: FaultName, settings: FaultSettings, podVar?: string): Pick<TargetPart, 'inject' | 'rollback'> => ({
      inject: [this.#readToken(), ...(podVar ? [this.#resolvePod(d.images, podVar)] : []), this.#fault(d.images, fault, settings, podVar)],
      rollback: [this.#readToken(), this.#fault(d.images, fault, undefined, podVar)],
    });

    switch (scenario) {
      case 'secret-deletion': {
        const backupHint = '<drill scratch dir>/app-secrets.json';
        const backup = this.#kubectl(['get', 'secret', K8S.secret, '-n', ns, '-o', 'json']);
        const del = this.#kubectl(['delete', 'secret', K8S.secret, '-n', ns]);
        const restart = this.#kubectl(['rollout', 'restart', `deployment/${d.auth}`, '-n', ns]);
        const restore = this.#kubectl(['apply', '-f', backupHint]);
        return {
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
          probes: [
            this.#probe(
              'config-error',
              `A new ${d.auth} pod waits with CreateContainerConfigError`,
              [
                'get',
                'pods',
                '-n',
                ns,
                '-l',
                K8S.selector(d.auth),
                '-o',
                'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[*].state.waiting.reason}{"\\n"}{end}',
              ],
              (out) => out.split('\n').find((l) => l.includes('CreateContainerConfigError')),
              b(90_000),
              'The kubelet cannot build the container environment without the Secret; the pod never starts.',
            ),
          ],
          minObserveMs: b(30_000),
          recoverWithinMs: b(300_000),
          logSources: [d.auth],
        };
      }
      case 'pod-deletion': {
        const del = this.#kubectl(['delete', 'pod', '<pod>', '-n', ns, '--wait=false']);
        return {
          inject: [
            this.#resolvePod(d.images, 'pod'),
            {
              description: "Delete that pod (the seed's action)",
              command: del.line,
              run: (ctx) => this.#kubectl(['delete', 'pod', ctx.vars.get('pod') ?? '', '-n', ns, '--wait=false']).run(),
            },
          ],
          rollback: [
            this.#step(`Wait for ${d.images} to be complete again (nothing to undo: the ReplicaSet replaces the pod)`, [
              'rollout',
              'status',
              `deployment/${d.images}`,
              '-n',
              ns,
              '--timeout=180s',
            ]),
          ],
          probes: [this.#deploymentAvailable(d.images, b(120_000))],
          minObserveMs: b(60_000),
          recoverWithinMs: b(180_000),
          logSources: [d.images],
        };
      }
      case 'readiness-failure':
        return { ...chaos('readiness', { durationMs: faultMs }, 'pod'), minObserveMs: b(20_000), recoverWithinMs: b(120_000), logSources: [d.images] };
      case 'database-outage':
        return {
          inject: [this.#step('Stop PostgreSQL (scale its StatefulSet to 0)', ['scale', K8S.postgres, '-n', ns, '--replicas=0'])],
          rollback: [
            this.#step('Start PostgreSQL again', ['scale', K8S.postgres, '-n', ns, '--replicas=1']),
            this.#step('Wait for PostgreSQL to be ready', ['rollout', 'status', K8S.postgres, '-n', ns, '--timeout=240s']),
          ],
          minObserveMs: b(20_000),
          recoverWithinMs: b(300_000),
          logSources: [d.auth, d.images],
        };
      case 'storage-outage':
        return {
          inject: [this.#step('Stop MinIO (scale its StatefulSet to 0)', ['scale', K8S.minio, '-n', ns, '--replicas=0'])],
          rollback: [
            this.#step('Start MinIO again', ['scale', K8S.minio, '-n', ns, '--replicas=1']),
            this.#step('Wait for MinIO to be ready', ['rollout', 'status', K8S.minio, '-n', ns, '--timeout=240s']),
          ],
          minObserveMs: b(20_000),
          recoverWithinMs: b(300_000),
          logSources: [d.images],
        };
      case 'upstream-latency':
        return {
          ...chaos('latency', { durationMs: faultMs, latencyMs: 2500 }),
          minObserveMs: b(20_000),
          recoverWithinMs: b(300_000),
          logSources: [d.gateway, d.images],
        };
      case 'error-burst':
        return {
          ...chaos('errors', { durationMs: faultMs, share: 0.5 }),
          minObserveMs: b(20_000),
          recoverWithinMs: b(300_000),
          logSources: [d.gateway, d.images],
        };
      case 'error-budget-burn':
        return {
          ...chaos('errors', { durationMs: 60 * 60_000, share: BUDGET_BURN_ERROR_SHARE }),
          minObserveMs: b(20_000),
          recoverWithinMs: b(300_000),
          logSources: [d.gateway, d.images],
        };
      case 'cpu-saturation':
        return { ...chaos('cpu', { durationMs: faultMs, workers: 1 }), minObserveMs: b(20_000), recoverWithinMs: b(120_000), logSources: [d.images] };
      case 'load-spike':
        return {
          inject: [
            this.#step(`Check the load generator is deployed (opt-in component ${LOADGENERATOR.component})`, [
              'get',
              LOADGENERATOR.deployment,
              '-n',
              ns,
              '-o',
              'name',
            ]),
            this.#step(`Scale the load generator to ${LOAD_SPIKE_REPLICAS} replicas`, [
              'scale',
              LOADGENERATOR.deployment,
              '-n',
              ns,
              `--replicas=${LOAD_SPIKE_REPLICAS}`,
            ]),
          ],
          rollback: [this.#step('Scale the load generator back to 0', ['scale', LOADGENERATOR.deployment, '-n', ns, '--replicas=0'])],
          minObserveMs: b(60_000),
          // Steady state returns at once (users are served); the HPA's return to its minimum is its own check.
          recoverWithinMs: b(120_000),
          logSources: [d.images],
        };
    }
  }
}
