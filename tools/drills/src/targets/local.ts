import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearFault, curlLine, setFault, type FaultName, type FaultSettings } from '../chaos-client.js';
import { tailLog, type InstanceRef, type LocalPlatform } from '../local-platform.js';
import { ALERTS, SCENARIO_INFO, alertFires, alertSilent, assertPlannable, promql, traffic } from '../scenarios.js';
import type { DrillContext, ProbeExpectation, ScenarioName, ScenarioPlan, Step, Target } from '../types.js';

/**
 * The local target: the services of `npm start` (tools/launcher) observed by the stack of
 * `npm run observe`. Two ways to get there:
 *  - `LocalTarget(platform)`: a platform started by the drill itself (local-platform.ts) — every
 *    scenario, including the outages of PostgreSQL and object storage that only it controls;
 *  - `attachLocalTarget()`: an already running `npm start` + `npm run observe`, found through their
 *    state files — the scenarios that need only process ids and the fault-injection API.
 */

type ServiceName = 'auth' | 'images' | 'gateway';

/** What the plans need from the platform; LocalPlatform provides all of it, an attached one part. */
export interface LocalControl {
  readonly gatewayUrl: string;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly sinkUrl?: string;
  readonly chaosToken?: string;
  readonly timeScale: number;
  instances(service: ServiceName): InstanceRef[];
  kill(service: ServiceName, index: number): void;
  restartWithout?(service: ServiceName, variables: readonly string[]): Promise<void>;
  restore?(service: ServiceName): Promise<void>;
  stopDatabase?(): Promise<void>;
  startDatabase?(): Promise<void>;
  stopStorage?(): Promise<void>;
  startStorage?(): Promise<void>;
  launcherLines?: string[];
}

export function controlFor(platform: LocalPlatform): LocalControl {
  return {
    gatewayUrl: platform.gatewayUrl,
    prometheusUrl: platform.observe.prometheusUrl,
    alertmanagerUrl: platform.observe.alertmanagerUrl,
    ...(platform.observe.sinkUrl ? { sinkUrl: platform.observe.sinkUrl } : {}),
    chaosToken: platform.chaosToken,
    timeScale: platform.timeScale,
    instances: (s) => platform.instances(s),
    kill: (s, i) => platform.kill(s, i),
    restartWithout: (s, v) => platform.restartWithout(s, v),
    restore: (s) => platform.restore(s),
    stopDatabase: () => platform.stopDatabase(),
    startDatabase: () => platform.startDatabase(),
    stopStorage: () => platform.stopStorage(),
    startStorage: () => platform.startStorage(),
    launcherLines: platform.launcherLines,
  };
}

/** Auth's secret variables (k8s/secrets.example.yaml → app-secrets): without the signing key it must refuse to start. */
export const AUTH_SECRET_VARIABLES = ['JWT_PRIVATE_KEY'] as const;

export class LocalTarget implements Target {
  readonly name = 'local' as const;
  readonly environment: Record<string, string>;
  readonly #c: LocalControl;

  constructor(control: LocalControl) {
    this.#c = control;
    this.environment = { platform: 'tools/launcher (npm start) + tools/observe', timeScale: String(control.timeScale) };
  }

  get gatewayUrl(): string {
    return this.#c.gatewayUrl;
  }
  get prometheusUrl(): string {
    return this.#c.prometheusUrl;
  }
  get alertmanagerUrl(): string {
    return this.#c.alertmanagerUrl;
  }
  get sinkUrl(): string | undefined {
    return this.#c.sinkUrl;
  }
  /** Rate windows of 2–5 minutes (scaled) must drain after an earlier drill's errors. */
  get settleMs(): number {
    return this.#b(300_000, 20_000);
  }

  /**
   * Real-time bound → this run's bound: scaled like the rules, plus, when scaled, a fixed slack for
   * what does not scale (process start-up, 1 s scrapes). At real time the bound is the real one
   * (2 minutes for the 1-minute alerts, as the seed asks).
   */
  #b(realMs: number, slackMs = 15_000): number {
    return this.#c.timeScale === 1 ? realMs : Math.round(realMs / this.#c.timeScale + slackMs);
  }

  async healthProblems(): Promise<string[]> {
    const problems: string[] = [];
    for (const service of ['gateway', 'auth', 'images'] as const) {
      for (const i of this.#c.instances(service)) {
        if (!i.running) {
          problems.push(`${i.label} is not running`);
          continue;
        }
        const ok = await fetch(new URL('/readyz', i.managementUrl), { signal: AbortSignal.timeout(3000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (!ok) problems.push(`${i.label} is not ready (${i.managementUrl}/readyz)`);
      }
    }
    return problems;
  }

  async logs(source: string, sinceMs: number): Promise<string[]> {
    if (source === 'launcher') return (this.#c.launcherLines ?? []).filter((l) => Date.parse(l.slice(0, 24)) >= sinceMs).slice(-80);
    const [service, index] = source.split('#') as [ServiceName, string | undefined];
    const list = this.#c.instances(service);
    const chosen = index ? [list[Number(index) - 1]].filter((x): x is InstanceRef => x !== undefined) : list;
    return chosen.flatMap((i) => tailLog(i.logFile, sinceMs, 60).map((l) => (list.length > 1 ? `[${i.label}] ${l}` : l)));
  }

  #instance(service: ServiceName, index: number): InstanceRef {
    const i = this.#c.instances(service)[index];
    if (!i) throw new Error(`${service} has no instance ${index + 1} (start it with two instances)`);
    return i;
  }

  #fault(service: ServiceName, which: number[] | 'all', fault: FaultName, settings?: FaultSettings): Step {
    const targets = () => (which === 'all' ? this.#c.instances(service) : which.map((n) => this.#instance(service, n)));
    const shown = (which === 'all' ? this.#c.instances(service) : which.map((n) => this.#c.instances(service)[n])).filter((x): x is InstanceRef => x !== undefined);
    const urls = shown.length > 0 ? shown.map((i) => i.managementUrl) : [`<${service} management URL>`];
    return {
      description: `${settings ? 'Switch on' : 'Switch off'} fault '${fault}' on ${which === 'all' ? `every ${service} instance` : which.map((n) => `${service}#${n + 1}`).join(', ')} (management port, admin token)`,
      command: urls.map((u) => curlLine(settings ? 'PUT' : 'DELETE', u, fault, settings)).join(' && '),
      run: async () => {
        const token = this.#c.chaosToken;
        if (!token) throw new Error('no chaos admin token: start `npm start` with CHAOS_ENABLED=true CHAOS_ADMIN_TOKEN=… and give the drill the same CHAOS_ADMIN_TOKEN');
        const out: string[] = [];
        for (const i of targets()) out.push(settings ? await setFault(i.managementUrl, token, fault, settings) : await clearFault(i.managementUrl, token, fault));
        return out.join('\n');
      },
    };
  }

  #needs<K extends keyof LocalControl>(what: K, scenario: ScenarioName): NonNullable<LocalControl[K]> {
    const f = this.#c[what];
    if (f === undefined) throw new Error(`${scenario} needs control of the platform that an attached \`npm start\` does not offer (${String(what)}); run it on the drill's own platform: npm run drill -- ${scenario} (without --attach)`);
    return (typeof f === 'function' ? f.bind(this.#c) : f) as NonNullable<LocalControl[K]>;
  }

  #probe(id: string, description: string, check: string, withinMs: number, why: string, probe: (ctx: DrillContext) => Promise<string | undefined>): ProbeExpectation {
    return { id, kind: 'probe', description, check, withinMs, why, probe };
  }

  plan(scenario: ScenarioName): ScenarioPlan {
    const info = SCENARIO_INFO[scenario];
    const b = (ms: number, slack?: number) => this.#b(ms, slack);
    const base = { scenario, title: info.title, summary: info.summary, target: 'local' as const };
    const faultMs = 15 * 60_000;
    let plan: Omit<ScenarioPlan, keyof typeof base>;
    // ServiceDown/ServiceNotReady/ServiceDependencyDown: for 1m + critical group_wait 10s
    // (warning 30s) + a scrape and an evaluation: within the seed's 2 minutes.
    const oneMinuteAlert = b(120_000);

    switch (scenario) {
      case 'secret-deletion': {
        let injectedAt = 0;
        let restartsBefore = 0;
        plan = {
          inject: [
            {
              description: `Restart auth without its secret variables (${AUTH_SECRET_VARIABLES.join(', ')}); the launcher keeps restarting it with that environment`,
              command: `(launcher) restart auth with ${AUTH_SECRET_VARIABLES.map((v) => `${v} unset`).join(', ')}`,
              run: async () => {
                injectedAt = Date.now();
                restartsBefore = this.#c.instances('auth').reduce((n, i) => n + i.restarts, 0);
                await this.#needs('restartWithout', scenario)('auth', AUTH_SECRET_VARIABLES);
                return 'auth restarted without its secret';
              },
            },
          ],
          rollback: [
            {
              description: 'Restore the secret variables and start auth (as re-creating the Secret does)',
              command: '(launcher) restore auth environment; start auth',
              run: async () => {
                await this.#needs('restore', scenario)('auth');
                return 'auth restored and ready';
              },
            },
          ],
          expectations: [
            this.#probe(
              'refuses-to-start',
              'Auth refuses to start with a clear error naming the missing variable',
              `auth log: "invalid configuration" and ${AUTH_SECRET_VARIABLES[0]} is required`,
              b(30_000, 20_000),
              'Config is a schema parsed once at start; every missing variable is reported in one message, the value never printed (STYLE.md).',
              async () => {
                const lines = this.#c.instances('auth').flatMap((i) => tailLog(i.logFile, injectedAt, 400));
                const hit = lines.find((l) => l.includes(`${AUTH_SECRET_VARIABLES[0]} is required`));
                return hit && lines.some((l) => l.includes('invalid configuration')) ? hit.trim() : undefined;
              },
            ),
            this.#probe(
              'crash-loop',
              'The launcher keeps restarting it with back-off (a crash loop)',
              'launcher restarts of auth since injection ≥ 3',
              b(60_000, 30_000),
              'Like the kubelet, the launcher restarts a dead process with exponential back-off; a config error never heals by itself.',
              async () => {
                const n = this.#c.instances('auth').reduce((sum, i) => sum + i.restarts, 0) - restartsBefore;
                return n >= 3 ? `${n} restarts` : undefined;
              },
            ),
            alertFires('service-down-alert', ALERTS.serviceDown, { service: 'auth' }, oneMinuteAlert, 'Locally no Kubernetes reports the waiting reason; the service itself is down (no instance answers scrapes), which pages as critical.'),
            traffic('auth-unavailable-fast', 'Auth routes answer 503 quickly while it is down', ['auth'], { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 }, 'The gateway answers GATEWAY_UPSTREAM_UNAVAILABLE at once (refused connection, open circuit) instead of hanging.'),
            traffic('tokens-still-work', 'Existing tokens keep working for Images routes', ['images', 'storage'], { minSuccessRatio: 0.99 }, 'Gateway and Images verify tokens locally with cached JWKS; they never call Auth per request.'),
          ],
          queries: [
            { name: 'auth instances up', promql: 'sum(up{job="platform",service="auth"})' },
            { name: 'gateway 5xx per second', promql: 'sum(rate(http_requests_total{job="platform",service="gateway",status_code=~"5.."}[10s]))' },
          ],
          minObserveMs: b(20_000, 5_000),
          maxObserveMs: b(180_000, 30_000),
          recoverWithinMs: b(60_000, 30_000),
          resolves: [ALERTS.serviceDown],
          logSources: ['auth', 'launcher'],
        };
        break;
      }
      case 'pod-deletion':
        plan = {
          inject: [
            {
              description: 'SIGKILL images#1 while images#2 serves',
              command: `kill -KILL ${this.#c.instances('images')[0]?.pid ?? '<pid of images#1>'}`,
              run: async (ctx) => {
                const i = this.#instance('images', 0);
                if (this.#c.instances('images').length < 2) throw new Error('pod deletion needs two Images instances (npm start -- --instances images=2)');
                ctx.vars.set('killedPid', String(i.pid));
                this.#c.kill('images', 0);
                return `killed pid ${i.pid}`;
              },
            },
          ],
          rollback: [{ description: 'Nothing to undo: the launcher restarts the killed instance (as the ReplicaSet replaces a pod)', run: async () => 'no action' }],
          expectations: [
            traffic('no-failed-request', 'Not one request fails', ['auth', 'images', 'storage'], { minSuccessRatio: 1 }, 'The balancer skips the dead instance and the gateway retries idempotent requests after a connection failure; the second instance serves.'),
            this.#probe(
              'replaced',
              'The killed instance is restarted and ready again',
              'launcher: images#1 runs with a new pid and GET /readyz answers 200',
              b(30_000, 30_000),
              'The launcher restarts a dead process (back-off 0.5 s at first), as the ReplicaSet replaces a pod.',
              async (ctx) => {
                const i = this.#c.instances('images')[0];
                if (!i?.running || i.pid === undefined || String(i.pid) === ctx.vars.get('killedPid')) return undefined;
                const ok = await fetch(new URL('/readyz', i.managementUrl), { signal: AbortSignal.timeout(2000) }).then((r) => r.ok).catch(() => false);
                return ok ? `images#1 restarted (pid ${ctx.vars.get('killedPid')} → ${i.pid}) and ready` : undefined;
              },
            ),
            alertSilent('no-page', ALERTS.serviceDown, { service: 'images' }, 'The second instance keeps the service up, so the critical ServiceDown must not page.'),
          ],
          queries: [
            { name: 'images instances up', promql: 'sum(up{job="platform",service="images"})' },
            { name: 'ServiceInstanceDown pending or firing', promql: 'count(ALERTS{alertname="ServiceInstanceDown",service="images"})' },
          ],
          minObserveMs: b(60_000, 10_000),
          maxObserveMs: b(120_000, 30_000),
          recoverWithinMs: b(30_000, 30_000),
          resolves: [],
          logSources: ['images', 'launcher'],
        };
        break;
      case 'readiness-failure':
        plan = {
          inject: [this.#fault('images', [0], 'readiness', { durationMs: faultMs })],
          rollback: [this.#fault('images', [0], 'readiness')],
          expectations: [
            alertFires('not-ready-alert', ALERTS.notReady, { service: 'images', check: 'chaos', pod: 'images-1' }, oneMinuteAlert, 'service_health_check_status{check="chaos"} is 0 on images#1; the seed asks for detection within 2 minutes.'),
            this.#probe(
              'readyz-503',
              'images#1 answers 503 on /readyz naming the failing check',
              'GET <images#1 management>/readyz → 503 with checks.chaos.ok=false',
              b(10_000, 10_000),
              'Readiness is what load balancers (and the kubelet) act on.',
              async () => {
                const i = this.#instance('images', 0);
                const res = await fetch(new URL('/readyz', i.managementUrl), { signal: AbortSignal.timeout(2000) });
                const body = (await res.json()) as { checks?: Record<string, { ok: boolean }> };
                return res.status === 503 && body.checks?.chaos?.ok === false ? '503, chaos check failing' : undefined;
              },
            ),
            alertSilent('no-dependency-page', ALERTS.dependencyDown, { service: 'images' }, 'Only one instance fails: not a dependency outage, so the critical alert stays silent.'),
            traffic('no-failed-request', 'Users see no failure', ['auth', 'images', 'storage'], { minSuccessRatio: 0.99 }, 'The instance still serves (locally nothing removes it from the balancer); in Kubernetes it leaves the endpoints and the other pod serves.'),
          ],
          queries: [{ name: 'failing readiness checks (images)', promql: 'sum(service_health_check_status{job="platform",service="images"} == bool 0)' }],
          minObserveMs: b(10_000, 5_000),
          maxObserveMs: b(180_000, 30_000),
          recoverWithinMs: b(30_000, 20_000),
          resolves: [ALERTS.notReady],
          logSources: ['images#1'],
        };
        break;
      case 'database-outage':
        plan = {
          inject: [{ description: 'Stop PostgreSQL (fast shutdown: clients disconnected at once)', command: 'pg_ctl stop -m fast (the drill platform\'s PostgreSQL)', run: async () => (await this.#needs('stopDatabase', scenario)(), 'PostgreSQL stopped') }],
          rollback: [{ description: 'Start PostgreSQL again on the same port', command: 'postgres -D <data> -p <same port>', run: async () => (await this.#needs('startDatabase', scenario)(), 'PostgreSQL started') }],
          expectations: [
            alertFires('auth-db-alert', ALERTS.dependencyDown, { service: 'auth', check: 'database' }, oneMinuteAlert, 'Every Auth instance fails its database readiness check.'),
            alertFires('images-db-alert', ALERTS.dependencyDown, { service: 'images', check: 'database' }, oneMinuteAlert, 'Every Images instance fails its database readiness check.'),
            traffic('fast-503', 'Requests needing the database fail fast with 503', ['auth', 'images'], { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 }, 'Refused connections map to the catalogued 503 *_DB_UNAVAILABLE at once; nothing hangs until a timeout.'),
          ],
          queries: [
            { name: 'failing database checks', promql: 'sum(service_health_check_status{job="platform",check="database"} == bool 0)' },
            { name: '5xx per second (all services)', promql: 'sum(rate(http_requests_total{job="platform",status_code=~"5.."}[10s]))' },
          ],
          minObserveMs: b(10_000, 5_000),
          maxObserveMs: b(180_000, 30_000),
          recoverWithinMs: b(60_000, 30_000),
          resolves: [ALERTS.dependencyDown],
          logSources: ['auth', 'images'],
        };
        break;
      case 'storage-outage':
        plan = {
          inject: [{ description: 'Stop object storage (the S3-protocol server)', command: 's3rver close (the drill platform\'s object storage)', run: async () => (await this.#needs('stopStorage', scenario)(), 'object storage stopped') }],
          rollback: [{ description: 'Start object storage again on the same port', command: 's3rver run (same port, same data)', run: async () => (await this.#needs('startStorage', scenario)(), 'object storage started') }],
          expectations: [
            alertFires('storage-alert', ALERTS.dependencyDown, { service: 'images', check: 'storage' }, oneMinuteAlert, 'Every Images instance fails its storage readiness check.'),
            traffic('login-works', 'Login and the rest of Auth keep working', ['auth'], { minSuccessRatio: 0.99 }, 'Auth does not depend on object storage; the gateway isolates upstreams.'),
            traffic('fast-503', 'Reading pictures fails fast with 503', ['storage'], { maxSuccessRatio: 0.5, failureStatuses: [503], maxFailureP95Ms: 3000 }, 'Storage errors map to IMAGES_STORAGE_UNAVAILABLE (503) within S3_REQUEST_TIMEOUT_MS.'),
          ],
          queries: [{ name: 'failing storage checks', promql: 'sum(service_health_check_status{job="platform",check="storage"} == bool 0)' }],
          minObserveMs: b(10_000, 5_000),
          maxObserveMs: b(180_000, 30_000),
          recoverWithinMs: b(60_000, 30_000),
          resolves: [ALERTS.dependencyDown],
          logSources: ['images'],
        };
        break;
      case 'upstream-latency':
        plan = {
          inject: [this.#fault('images', 'all', 'latency', { durationMs: faultMs, latencyMs: 2500 })],
          rollback: [this.#fault('images', 'all', 'latency')],
          expectations: [
            alertFires('latency-alert', ALERTS.latency, { service: 'images' }, b(240_000), 'p99 above 2 s for 3 minutes (scaled), evaluated on the 2-minute (scaled) rate.'),
            traffic('auth-fast', 'Auth routes stay available', ['auth'], { minSuccessRatio: 0.99 }, 'The gateway keeps a separate timeout and circuit per upstream.'),
            traffic('images-slow-but-served', 'Images requests are slow but answered', ['images', 'storage'], { minSuccessRatio: 0.95 }, 'The delay (2.5 s) stays below the gateway\'s upstream timeout (IMAGES_TIMEOUT_MS).'),
          ],
          queries: [
            { name: 'images p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="images"}' },
            { name: 'gateway p99 (s)', promql: 'namespace_service:http_request_duration_seconds:p99_2m{service="gateway"}' },
          ],
          minObserveMs: b(10_000, 5_000),
          maxObserveMs: b(300_000, 30_000),
          recoverWithinMs: b(60_000, 30_000),
          resolves: [ALERTS.latency],
          logSources: ['images'],
        };
        break;
      case 'error-burst':
        plan = {
          inject: [this.#fault('images', 'all', 'errors', { durationMs: faultMs, share: 0.5 })],
          rollback: [this.#fault('images', 'all', 'errors')],
          expectations: [
            alertFires('error-ratio-alert', ALERTS.errorRatio, { service: 'images' }, b(210_000), '5xx ratio above 5% for 2 minutes (scaled), on the 2-minute (scaled) rate.'),
            traffic('auth-unaffected', 'Auth routes are unaffected', ['auth'], { minSuccessRatio: 0.99 }, 'Only Images fails; the gateway isolates upstreams.'),
            traffic('errors-visible', 'Images errors reach users as 503', ['images', 'storage'], { maxSuccessRatio: 0.9, failureStatuses: [503] }, 'Injected errors are 503 CHAOS_INJECTED_FAULT; the gateway passes 503 on.'),
          ],
          queries: [
            { name: 'images 5xx ratio', promql: 'namespace_service:http_requests_5xx:ratio_rate2m{service="images"}' },
            { name: 'injected errors per second', promql: 'sum(rate(chaos_injected_requests_total{job="platform",fault="errors"}[10s]))' },
          ],
          minObserveMs: b(10_000, 5_000),
          maxObserveMs: b(240_000, 30_000),
          recoverWithinMs: b(60_000, 30_000),
          resolves: [ALERTS.errorRatio],
          logSources: ['images'],
        };
        break;
      case 'cpu-saturation':
        plan = {
          inject: [this.#fault('images', [0], 'cpu', { durationMs: faultMs, workers: 1 })],
          rollback: [this.#fault('images', [0], 'cpu')],
          expectations: [
            promql('cpu-up', 'images#1 burns CPU (well above its idle level)', 'sum by (pod) (rate(process_cpu_seconds_total{job="platform",service="images",pod="images-1"}[10s])) > 0.3', b(30_000, 15_000), 'The burn runs in a worker thread of the service process; process_cpu_seconds_total counts every thread (what an HPA would act on). An idle instance uses a few hundredths of a core; 0.3 leaves room for a machine shared with other work.'),
            promql('fault-exported', 'The active fault is visible as a metric', 'chaos_fault_active{job="platform",fault="cpu"} == 1', b(10_000, 10_000), 'Every toggle is exported, so dashboards show that a drill is running.'),
            traffic('served', 'Requests keep being served', ['auth', 'images', 'storage'], { minSuccessRatio: 0.99 }, 'The event loop keeps answering while the worker burns CPU.'),
          ],
          queries: [{ name: 'images CPU (cores) by instance', promql: 'sum by (pod) (rate(process_cpu_seconds_total{job="platform",service="images"}[10s]))' }],
          minObserveMs: b(15_000, 5_000),
          maxObserveMs: b(60_000, 30_000),
          recoverWithinMs: b(30_000, 20_000),
          resolves: [],
          logSources: ['images#1'],
        };
        break;
    }
    assertPlannable(scenario, plan.expectations);
    return { ...base, ...plan };
  }
}

// ---- attached to a running `npm start` + `npm run observe` ------------------------------------------

interface LauncherFile {
  pid: number;
  appUrl: string;
  dataDir: string;
  services: Record<ServiceName, { instances: Array<{ label: string; pid?: number; managementUrl: string }> }>;
}

export interface LocalTargetOptions {
  dryRun?: boolean;
  observeStateFile?: string;
  launcherStateFile?: string;
  chaosToken?: string;
  repoRoot?: string;
}

/** A target for an already running `npm start` and `npm run observe`, from their state files. */
export function attachLocalTarget(options: LocalTargetOptions): LocalTarget {
  const root = options.repoRoot ?? process.cwd();
  const launcherFile = options.launcherStateFile ?? join(root, '.data', 'launcher.json');
  const observeFile = options.observeStateFile ?? join(root, '.data', 'observe', 'state.json');
  const read = <T>(file: string, hint: string): T | undefined => {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
    if (options.dryRun) return undefined;
    throw new Error(`${file} not found: ${hint}`);
  };
  const launcher = read<LauncherFile>(launcherFile, 'start the platform first (npm start -- --instances images=2, with CHAOS_ENABLED=true and CHAOS_ADMIN_TOKEN set)');
  const observe = read<{ prometheusUrl: string; alertmanagerUrl: string; sinkUrl?: string; timeScale: number }>(observeFile, 'start the observability stack first (npm run observe)');
  const fresh = (): LauncherFile | undefined => (existsSync(launcherFile) ? (JSON.parse(readFileSync(launcherFile, 'utf8')) as LauncherFile) : launcher);
  const token = options.chaosToken ?? process.env.CHAOS_ADMIN_TOKEN;
  return new LocalTarget({
    gatewayUrl: (launcher?.appUrl ?? 'http://localhost:8080').replace('localhost', '127.0.0.1'),
    prometheusUrl: observe?.prometheusUrl ?? 'http://127.0.0.1:<prometheus of npm run observe>',
    alertmanagerUrl: observe?.alertmanagerUrl ?? 'http://127.0.0.1:<alertmanager of npm run observe>',
    ...(observe?.sinkUrl ? { sinkUrl: observe.sinkUrl } : observe ? {} : { sinkUrl: 'http://127.0.0.1:<slack sink of npm run observe>' }),
    ...(token ? { chaosToken: token } : {}),
    timeScale: observe?.timeScale ?? 1,
    instances: (service) => {
      const state = fresh();
      return (state?.services[service]?.instances ?? []).map((i, index) => {
        let running = false;
        try {
          if (i.pid) process.kill(i.pid, 0);
          running = i.pid !== undefined;
        } catch {
          running = false;
        }
        return { service, label: i.label, index, managementUrl: i.managementUrl, pid: i.pid, logFile: join(state?.dataDir ?? '.data', 'logs', `${i.label.replace('#', '-')}.log`), restarts: 0, running };
      });
    },
    kill: (service, index) => {
      const pid = fresh()?.services[service]?.instances[index]?.pid;
      if (!pid) throw new Error(`no pid for ${service} instance ${index + 1} in ${launcherFile}`);
      process.kill(pid, 'SIGKILL');
    },
  });
}

/** For --dry-run without any platform running: placeholders where a live run has ports and pids. */
export function plannedLocalTarget(timeScale = 1): LocalTarget {
  const placeholder = (service: ServiceName, count: number): InstanceRef[] =>
    Array.from({ length: count }, (_, index) => ({ service, label: count > 1 ? `${service}#${index + 1}` : service, index, managementUrl: `http://127.0.0.1:<${service}${count > 1 ? `#${index + 1}` : ''} management port>`, pid: undefined, logFile: '', restarts: 0, running: false }));
  return new LocalTarget({
    gatewayUrl: 'http://127.0.0.1:<gateway port>',
    prometheusUrl: 'http://127.0.0.1:<prometheus port>',
    alertmanagerUrl: 'http://127.0.0.1:<alertmanager port>',
    sinkUrl: 'http://127.0.0.1:<slack sink port>',
    chaosToken: '<generated>',
    timeScale,
    instances: (s) => placeholder(s, s === 'images' ? 2 : 1),
    kill: () => undefined,
  });
}
