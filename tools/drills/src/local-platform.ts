import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from '@sre/testkit';
import { Launcher, type LauncherState, type ServiceName } from '@sre/launcher/launcher';
import { startLocalPostgres, type LocalPostgres } from '@sre/launcher/postgres';
import { startObserve, type ObserveStack } from '@sre/observe/stack';
import { startLocalViews, type LocalViews } from '@sre/observe/views';
import { startConsoleSummary } from './console-summary.js';
import type { ScrapeTarget } from '@sre/observe/config';

/**
 * The platform a local drill runs against: the services exactly as `npm start` runs them (the
 * launcher's own code, tools/launcher), with what drills need around them:
 *  - Images as two instances behind the launcher's round-robin balancer (pod deletion);
 *  - a real PostgreSQL and an S3-protocol server (s3rver) that the drill can stop and start on
 *    the same port (database and storage outages; embedded PGlite and the local directory
 *    driver cannot have an outage);
 *  - fault injection on (CHAOS_ENABLED=true) with a token generated for this run;
 *  - the observability stack of `npm run observe` (real Prometheus and Alertmanager, monitoring/
 *    rules and routing, the Slack sink), its dashboards viewer and its trace store, which the
 *    services export their spans to (the report shows the traces of the requests that failed).
 */

export interface LocalPlatformOptions {
  /** Everything (databases, objects, logs, TSDB) goes here; wiped at start. */
  dataDir: string;
  /** Divide every alert `for:`, rule range and Alertmanager timer by this (1 = as in the cluster). */
  timeScale?: number;
  imagesInstances?: number;
  say?: (line: string) => void;
  /** How often service errors are summarised on the console (default 10 s). */
  summaryIntervalMs?: number;
}

export interface InstanceRef {
  service: ServiceName;
  label: string;
  index: number;
  managementUrl: string;
  pid: number | undefined;
  logFile: string;
  restarts: number;
  running: boolean;
}

/** What drills and tests can do to the local platform. */
export interface LocalPlatform {
  readonly gatewayUrl: string;
  readonly observe: ObserveStack;
  /** The dashboards viewer and trace store of `npm run observe`, fed by the services' OTLP exports. */
  readonly views: LocalViews;
  readonly chaosToken: string;
  readonly timeScale: number;
  /** Scrape and evaluation interval of the observe stack. */
  readonly scrapeIntervalMs: number;
  /** Every console line of the launcher and the services, in full, with its time. */
  readonly launcherLines: string[];
  state(): LauncherState;
  instances(service: ServiceName): InstanceRef[];
  /** SIGKILL one instance (the launcher restarts it, as a kubelet would). */
  kill(service: ServiceName, index: number): void;
  /** Graceful restart of one instance: SIGTERM (drain), wait for exit, start, wait until ready. */
  restartInstance(service: ServiceName, index: number): Promise<void>;
  /** Restart every instance of a service without these variables; its restarts keep using that environment. */
  restartWithout(service: ServiceName, variables: readonly string[]): Promise<void>;
  /** Put the variables back and start the service at once (as re-creating a Secret does). */
  restore(service: ServiceName): Promise<void>;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  stopStorage(): Promise<void>;
  startStorage(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The launcher keeps each instance's environment in its SupervisedProcess; restarting a service
 * "without its secret" needs to change it. The launcher has no public method for that yet (see the
 * report in docs/drills.md#local-target), so this reaches the options object it was built with and
 * fails loudly if that shape changes.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const say = options.say ?? ((line: string) => console.log(line));
  const timeScale = options.timeScale ?? 1;
  rmSync(options.dataDir, { recursive: true, force: true });
  // 755: PostgreSQL runs as the postgres user (through runuser when we are root) and must reach its folder.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o755 });
  const launcherLines: string[] = [];
  // One line per failed request from every service would flood the console: counted per class instead.
  const consoleSummary = startConsoleSummary({ print: say, ...(options.summaryIntervalMs ? { intervalMs: options.summaryIntervalMs } : {}) });
  const cleanups: Array<() => Promise<void>> = [async () => consoleSummary.stop()];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  try {
    // PostgreSQL: the launcher's own helper, on a port that stays the same across restarts.
    const pgDir = join(options.dataDir, 'postgres');
    const pgPort = await freePort();
    let postgres: LocalPostgres | undefined = await startLocalPostgres(pgDir, pgPort, say);
    cleanups.push(async () => postgres?.stop());
    const authDb = await postgres.databaseUrl('auth');
    const imagesDb = await postgres.databaseUrl('images');

    // Object storage: s3rver, restartable on the same port.
    const s3Dir = join(options.dataDir, 's3');
    mkdirSync(s3Dir, { recursive: true });
    const s3Port = await freePort();
    let s3: S3rver | undefined = new S3rver({ port: s3Port, address: '127.0.0.1', directory: s3Dir, silent: true, configureBuckets: [{ name: 'images' }] });
    await s3.run();
    cleanups.push(async () => s3?.close());

    // Traces: the services export to this port; the receiver starts with the viewer once Prometheus runs.
    const otlpPort = await freePort();
    const chaosToken = randomBytes(24).toString('base64url');
    const launcher = new Launcher({
      dataDir: join(options.dataDir, 'platform'),
      port: 0,
      instances: { images: options.imagesInstances ?? 2 },
      initialBackoffMs: 500,
      say: (line) => {
        launcherLines.push(`${new Date().toISOString()} ${line}`);
        consoleSummary.line(line);
      },
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        AUTH_DATABASE_URL: authDb,
        IMAGES_DATABASE_URL: imagesDb,
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
        S3_BUCKET: 'images',
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        // A storage outage must answer 503 quickly, not after the SDK's retries.
        S3_REQUEST_TIMEOUT_MS: '2000',
        S3_MAX_ATTEMPTS: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
        // The trace store takes OTLP/HTTP JSON only; the SDK's default encoding is protobuf.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Export each second rather than every 5 s: the report reads the traces back when the drill ends.
        OTEL_BSP_SCHEDULE_DELAY: '1000',
        CHAOS_ENABLED: 'true',
        CHAOS_ADMIN_TOKEN: chaosToken,
        // The synthetic user is one client IP: lift the per-IP limits that would throttle it.
        RATE_LIMIT_MAX: '100000',
        AUTH_RATE_LIMIT_MAX: '100000',
      },
    });
    cleanups.push(() => launcher.stop());
    const state = await launcher.start();

    const targets: ScrapeTarget[] = Object.entries(state.services).flatMap(([service, s]) =>
      s.instances.map((i) => ({ address: `127.0.0.1:${i.managementPort}`, service, pod: i.label.replace('#', '-') })),
    );
    // tools/observe's defaults, stated here because the drills derive their bounds from them.
    const scrapeIntervalSeconds = timeScale > 1 ? 1 : 5;
    const observe = await startObserve({ targets, dataDir: join(options.dataDir, 'observe'), timeScale, scrapeIntervalSeconds, print: say });
    cleanups.push(() => observe.stop());

    // Per service: how to put back the variables a secret-deletion drill took away.
    const saved = new Map<ServiceName, () => Promise<void>>();
    const logDir = join(options.dataDir, 'platform', 'logs');

    const views = await startLocalViews({ prometheusUrl: observe.prometheusUrl, scrapeIntervalSeconds, otlpPort });
    cleanups.push(() => views.close());

    const platform: LocalPlatform = {
      gatewayUrl: state.appUrl.replace('localhost', '127.0.0.1'),
      observe,
      views,
      chaosToken,
      timeScale,
      scrapeIntervalMs: scrapeIntervalSeconds * 1000,
      launcherLines,
      state: () => launcher.state,
      instances: (service) =>
        launcher.instances(service).map((i, index) => ({
          service,
          label: i.label,
          index,
          managementUrl: `http://127.0.0.1:${i.managementPort}`,
          pid: i.process.pid,
          logFile: join(logDir, `${i.label.replace('#', '-')}.log`),
          restarts: i.process.restarts,
          running: i.process.running,
        })),
      kill(service, index) {
        const pid = launcher.instances(service)[index]?.process.pid;
        if (pid === undefined) throw new Error(`${service} instance ${index + 1} is not running`);
        process.kill(pid, 'SIGKILL');
      },
      async restartInstance(service, index) {
        const instance = launcher.instances(service)[index];
        if (!instance) throw new Error(`no ${service} instance ${index + 1}`);
        await instance.process.stop();
        instance.process.start();
        await launcher.waitReady(service);
      },
      async restartWithout(service, variables) {
        saved.set(service, await launcher.restartWithout(service, variables));
      },
      async restore(service) {
        const restore = saved.get(service);
        saved.delete(service);
        if (restore) await restore();
        else await launcher.startService(service);
      },
      async stopDatabase() {
        await postgres?.stop();
        postgres = undefined;
      },
      async startDatabase() {
        postgres ??= await startLocalPostgres(pgDir, pgPort, say);
      },
      async stopStorage() {
        if (!s3) return;
        // Stopped storage drops every connection, as a crashed server would. close() alone waits for
        // the keep-alive connections Images keeps busy: at real time the drill hung here for minutes.
        const closing = s3.close();
        (s3 as unknown as { httpServer?: Server }).httpServer?.closeAllConnections();
        await closing;
        s3 = undefined;
      },
      async startStorage() {
        if (s3) return;
        const server = new S3rver({ port: s3Port, address: '127.0.0.1', directory: s3Dir, silent: true });
        await server.run();
        s3 = server;
      },
      stop: stopAll,
    };
    return platform;
  } catch (err) {
    await stopAll();
    // What the services said is the likeliest explanation (a crash at start, a port taken).
    if (launcherLines.length === 0) throw err;
    throw new Error(`${(err as Error).message}\nlast launcher lines:\n${launcherLines.slice(-30).join('\n')}`, { cause: err });
  }
}

/**
 * The interesting lines of a log file written since `sinceMs`: everything but routine successful
 * request lines (pino JSON lines carry `time`, as epoch ms or ISO text; plain lines — a config error
 * on stderr, a crash trace — are always kept).
 */
export function tailLog(file: string, sinceMs: number, max = 200): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return lines
    .filter((l) => {
      const raw = /"time":(?:(\d{13})|"([^"]+)")/.exec(l);
      const t = raw ? (raw[1] ? Number(raw[1]) : Date.parse(raw[2] as string)) : undefined;
      if (t !== undefined && t < sinceMs) return false;
      const routine = /"msg":"request completed"/.test(l) && /"statusCode":[1-4]\d\d/.test(l);
      return !routine;
    })
    .slice(-max);
}
