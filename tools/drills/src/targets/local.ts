import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredSpan } from '@sre/observe/traces';
import { clearFault, curlLine, setFault, type FaultName, type FaultSettings } from '../chaos-client.js';
import { tailLog, type InstanceRef, type LocalPlatform } from '../local-platform.js';
import { BoundDeriver } from '../bounds/derive.js';
import { BUDGET_BURN_ERROR_SHARE, sharedExpectations, type Vocabulary } from '../definitions.js';
import { assemble, scenariosFor, type TargetPart } from '../scenarios.js';
import { SCENARIOS, type DrillContext, type ProbeExpectation, type ScenarioName, type ScenarioPlan, type Step, type Target } from '../types.js';

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
  /** Scrape and evaluation interval of the observe stack (default: tools/observe's, 5 s or 1 s scaled). */
  readonly scrapeIntervalMs?: number;
  instances(service: ServiceName): InstanceRef[];
  kill(service: ServiceName, index: number): void;
  restartWithout?(service: ServiceName, variables: readonly string[]): Promise<void>;
  restore?(service: ServiceName): Promise<void>;
  stopDatabase?(): Promise<void>;
  startDatabase?(): Promise<void>;
  stopStorage?(): Promise<void>;
  startStorage?(): Promise<void>;
  launcherLines?: string[];
  /** The spans the platform's trace store received for a trace id. */
  traceSpans?(traceId: string): readonly StoredSpan[] | undefined;
  /** `<traceViewUrl>/<trace id>` opens a trace in the platform's viewer. */
  readonly traceViewUrl?: string;
}

export function controlFor(platform: LocalPlatform): LocalControl {
  return {
    gatewayUrl: platform.gatewayUrl,
    prometheusUrl: platform.observe.prometheusUrl,
    alertmanagerUrl: platform.observe.alertmanagerUrl,
    ...(platform.observe.sinkUrl ? { sinkUrl: platform.observe.sinkUrl } : {}),
    chaosToken: platform.chaosToken,
    timeScale: platform.timeScale,
    scrapeIntervalMs: platform.scrapeIntervalMs,
    instances: (s) => platform.instances(s),
    kill: (s, i) => platform.kill(s, i),
    restartWithout: (s, v) => platform.restartWithout(s, v),
    restore: (s) => platform.restore(s),
    stopDatabase: () => platform.stopDatabase(),
    startDatabase: () => platform.startDatabase(),
    stopStorage: () => platform.stopStorage(),
    startStorage: () => platform.startStorage(),
    launcherLines: platform.launcherLines,
    traceSpans: (id) => platform.views.store.get(id),
    traceViewUrl: `${platform.views.viewerUrl}/traces`,
  };
}

/** Auth's secret variables (k8s/secrets.example.yaml → app-secrets): without the signing key it must refuse to start. */
export const AUTH_SECRET_VARIABLES = ['JWT_PRIVATE_KEY'] as const;

export class LocalTarget implements Target {
  readonly name = 'local' as const;
  readonly environment: Record<string, string>;
  readonly #c: LocalControl;
  #bounds: BoundDeriver | undefined;

  constructor(control: LocalControl) {
    this.#c = control;
    this.environment = { platform: 'tools/launcher (npm start) + tools/observe', timeScale: String(control.timeScale) };
  }

  get gatewayUrl(): string {
    return this.#c.gatewayUrl;
  }
  get traceViewUrl(): string | undefined {
    return this.#c.traceViewUrl;
  }
  traceSpans(traceId: string): readonly StoredSpan[] | undefined {
    return this.#c.traceSpans?.(traceId);
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
  /** An earlier drill's alerts must resolve first: at most the longest resolve bound of monitoring/rules. */
  get settleMs(): number {
    return this.bounds.settleMs();
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

  /** Every console line since the drill started, in full (the console showed only a summary). */
  consoleLines(sinceMs: number): string[] {
    return (this.#c.launcherLines ?? []).filter((l) => Date.parse(l.slice(0, 24)) >= sinceMs);
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
    const shown = (which === 'all' ? this.#c.instances(service) : which.map((n) => this.#c.instances(service)[n])).filter(
      (x): x is InstanceRef => x !== undefined,
    );
    const urls = shown.length > 0 ? shown.map((i) => i.managementUrl) : [`<${service} management URL>`];
    return {
      description: `${settings ? 'Switch on' : 'Switch off'} fault '${fault}' on ${which === 'all' ? `every ${service} instance` : which.map((n) => `${service}#${n + 1}`).join(', ')} (management port, admin token)`,
      command: urls.map((u) => curlLine(settings ? 'PUT' : 'DELETE', u, fault, settings)).join(' && '),
      run: async () => {
        const token = this.#c.chaosToken;
        if (!token)
          throw new Error('no chaos admin token: start `npm start` with CHAOS_ENABLED=true CHAOS_ADMIN_TOKEN=… and give the drill the same CHAOS_ADMIN_TOKEN');
        const out: string[] = [];
        for (const i of targets())
          out.push(settings ? await setFault(i.managementUrl, token, fault, settings) : await clearFault(i.managementUrl, token, fault));
        return out.join('\n');
      },
    };
  }

  #needs<K extends keyof LocalControl>(what: K, scenario: ScenarioName): NonNullable<LocalControl[K]> {
    const f = this.#c[what];
    if (f === undefined)
      throw new Error(
        `${scenario} needs control of the platform that an attached \`npm start\` does not offer (${String(what)}); run it on the drill's own platform: npm run drill -- ${scenario} (without --attach)`,
      );
    return (typeof f === 'function' ? f.bind(this.#c) : f) as NonNullable<LocalControl[K]>;
  }

  #probe(
    id: string,
    description: string,
    check: string,
    withinMs: number,
    why: string,
    probe: (ctx: DrillContext) => Promise<string | undefined>,
  ): ProbeExpectation {
    return { id, kind: 'probe', description, check, withinMs, why, probe };
  }

  /** The scrape and evaluation interval of the observe stack (tools/observe: 5 s at real time, 1 s scaled). */
  get #scrapeMs(): number {
    return this.#c.scrapeIntervalMs ?? (this.#c.timeScale > 1 ? 1000 : 5000);
  }

  /** Rules and routes as this run's Prometheus and Alertmanager load them (bounds/derive.ts). */
  get bounds(): BoundDeriver {
    this.#bounds ??= new BoundDeriver({
      timeScale: this.#c.timeScale,
      scrapeIntervalMs: this.#scrapeMs,
      evaluationIntervalMs: this.#scrapeMs,
      // What no rule says: process start-up and the readiness prober refreshing a gauge (one more
      // scrape interval), on a machine shared with other work. Unscaled: start-up does not get faster
      // when the rules do, and a passing drill never waits for it.
      slackMs: 30_000,
    });
    return this.#bounds;
  }

  get vocabulary(): Vocabulary {
    const range = `${Math.max(4 * (this.#scrapeMs / 1000), this.#c.timeScale === 1 ? 30 : 10)}s`;
    return {
      target: 'local',
      namespace: 'local',
      podsOf: (service) => `pod=~"${service}-.*"`,
      faultedPod: (service) => (service === 'images' ? 'images-1' : undefined),
      signalRange: range,
      cpuByPod: (service, pod) => `sum by (pod) (rate(process_cpu_seconds_total{job="platform",service="${service}"${pod ? `,pod="${pod}"` : ''}}[${range}]))`,
      readableSink: this.#c.sinkUrl !== undefined,
    };
  }

  plan(scenario: ScenarioName): ScenarioPlan {
    if (!scenariosFor('local', SCENARIOS).includes(scenario))
      throw new Error(`${scenario} runs on the kubernetes target only: npm run drill -- ${scenario} --target kubernetes`);
    return assemble(scenario, 'local', sharedExpectations(scenario, this.vocabulary, this.bounds), this.#part(scenario));
  }

  #part(scenario: ScenarioName): TargetPart {
    const b = (ms: number, slack?: number) => this.#b(ms, slack);
    const faultMs = 15 * 60_000;
    switch (scenario) {
      case 'secret-deletion': {
        let injectedAt = 0;
        let restartsBefore = 0;
        return {
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
          probes: [
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
              // Three start-ups of a service that fails its config check, plus back-off 0.5 + 1 + 2 s.
              b(90_000, 60_000),
              'Like the kubelet, the launcher restarts a dead process with exponential back-off; a config error never heals by itself.',
              async () => {
                const n = this.#c.instances('auth').reduce((sum, i) => sum + i.restarts, 0) - restartsBefore;
                return n >= 3 ? `${n} restarts` : undefined;
              },
            ),
          ],
          minObserveMs: b(20_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['auth', 'launcher'],
        };
      }
      case 'pod-deletion':
        return {
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
          rollback: [
            { description: 'Nothing to undo: the launcher restarts the killed instance (as the ReplicaSet replaces a pod)', run: async () => 'no action' },
          ],
          probes: [
            this.#probe(
              'replaced',
              'The killed instance is restarted and ready again',
              'launcher: images#1 runs with a new pid and GET /readyz answers 200',
              b(30_000, 30_000),
              'The launcher restarts a dead process (back-off 0.5 s at first), as the ReplicaSet replaces a pod.',
              async (ctx) => {
                const i = this.#c.instances('images')[0];
                if (!i?.running || i.pid === undefined || String(i.pid) === ctx.vars.get('killedPid')) return undefined;
                const ok = await fetch(new URL('/readyz', i.managementUrl), { signal: AbortSignal.timeout(2000) })
                  .then((r) => r.ok)
                  .catch(() => false);
                return ok ? `images#1 restarted (pid ${ctx.vars.get('killedPid')} → ${i.pid}) and ready` : undefined;
              },
            ),
          ],
          minObserveMs: b(60_000, 10_000),
          recoverWithinMs: b(30_000, 30_000),
          logSources: ['images', 'launcher'],
        };
      case 'readiness-failure':
        return {
          inject: [this.#fault('images', [0], 'readiness', { durationMs: faultMs })],
          rollback: [this.#fault('images', [0], 'readiness')],
          probes: [
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
          ],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(30_000, 20_000),
          logSources: ['images#1'],
        };
      case 'database-outage':
        return {
          inject: [
            {
              description: 'Stop PostgreSQL (fast shutdown: clients disconnected at once)',
              command: "pg_ctl stop -m fast (the drill platform's PostgreSQL)",
              run: async () => (await this.#needs('stopDatabase', scenario)(), 'PostgreSQL stopped'),
            },
          ],
          rollback: [
            {
              description: 'Start PostgreSQL again on the same port',
              command: 'postgres -D <data> -p <same port>',
              run: async () => (await this.#needs('startDatabase', scenario)(), 'PostgreSQL started'),
            },
          ],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['auth', 'images'],
        };
      case 'storage-outage':
        return {
          inject: [
            {
              description: 'Stop object storage (the S3-protocol server)',
              command: "s3rver close (the drill platform's object storage)",
              run: async () => (await this.#needs('stopStorage', scenario)(), 'object storage stopped'),
            },
          ],
          rollback: [
            {
              description: 'Start object storage again on the same port',
              command: 's3rver run (same port, same data)',
              run: async () => (await this.#needs('startStorage', scenario)(), 'object storage started'),
            },
          ],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['images'],
        };
      case 'upstream-latency':
        return {
          inject: [this.#fault('images', 'all', 'latency', { durationMs: faultMs, latencyMs: 2500 })],
          rollback: [this.#fault('images', 'all', 'latency')],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['images'],
        };
      case 'error-burst':
        return {
          inject: [this.#fault('images', 'all', 'errors', { durationMs: faultMs, share: 0.5 })],
          rollback: [this.#fault('images', 'all', 'errors')],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['images'],
        };
      case 'error-budget-burn':
        // The fault outlives the slowest page window (the whole drill); rollback switches it off.
        return {
          inject: [this.#fault('images', 'all', 'errors', { durationMs: 60 * 60_000, share: BUDGET_BURN_ERROR_SHARE })],
          rollback: [this.#fault('images', 'all', 'errors')],
          minObserveMs: b(10_000, 5_000),
          recoverWithinMs: b(60_000, 30_000),
          logSources: ['images'],
        };
      case 'cpu-saturation':
        return {
          inject: [this.#fault('images', [0], 'cpu', { durationMs: faultMs, workers: 1 })],
          rollback: [this.#fault('images', [0], 'cpu')],
          minObserveMs: b(15_000, 5_000),
          recoverWithinMs: b(30_000, 20_000),
          logSources: ['images#1'],
        };
      case 'load-spike':
        throw new Error('load-spike runs on the kubernetes target only');
    }
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
  const launcher = read<LauncherFile>(
    launcherFile,
    'start the platform first (npm start -- --instances images=2, with CHAOS_ENABLED=true and CHAOS_ADMIN_TOKEN set)',
  );
  const observe = read<{ prometheusUrl: string; alertmanagerUrl: string; sinkUrl?: string; timeScale: number; scrapeIntervalSeconds?: number }>(
    observeFile,
    'start the observability stack first (npm run observe)',
  );
  const fresh = (): LauncherFile | undefined => (existsSync(launcherFile) ? (JSON.parse(readFileSync(launcherFile, 'utf8')) as LauncherFile) : launcher);
  const token = options.chaosToken ?? process.env.CHAOS_ADMIN_TOKEN;
  return new LocalTarget({
    gatewayUrl: (launcher?.appUrl ?? 'http://localhost:8080').replace('localhost', '127.0.0.1'),
    prometheusUrl: observe?.prometheusUrl ?? 'http://127.0.0.1:<prometheus of npm run observe>',
    alertmanagerUrl: observe?.alertmanagerUrl ?? 'http://127.0.0.1:<alertmanager of npm run observe>',
    ...(observe?.sinkUrl ? { sinkUrl: observe.sinkUrl } : observe ? {} : { sinkUrl: 'http://127.0.0.1:<slack sink of npm run observe>' }),
    ...(token ? { chaosToken: token } : {}),
    timeScale: observe?.timeScale ?? 1,
    ...(observe?.scrapeIntervalSeconds ? { scrapeIntervalMs: observe.scrapeIntervalSeconds * 1000 } : {}),
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
        return {
          service,
          label: i.label,
          index,
          managementUrl: i.managementUrl,
          pid: i.pid,
          logFile: join(state?.dataDir ?? '.data', 'logs', `${i.label.replace('#', '-')}.log`),
          restarts: 0,
          running,
        };
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
    Array.from({ length: count }, (_, index) => ({
      service,
      label: count > 1 ? `${service}#${index + 1}` : service,
      index,
      managementUrl: `http://127.0.0.1:<${service}${count > 1 ? `#${index + 1}` : ''} management port>`,
      pid: undefined,
      logFile: '',
      restarts: 0,
      running: false,
    }));
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
