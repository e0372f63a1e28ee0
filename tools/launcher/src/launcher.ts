import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// Ports for `port: 0` (tests, drills), chosen below the ephemeral range.
import { freePort } from '@sre/testkit';
import { RoundRobinBalancer } from './balancer.js';
import { compileServices } from './compile.js';
import { ReadinessEndpoints } from './endpoints.js';
import { ensureDevSigningKey } from './keys.js';
import { lockDataDir, type DataDirLock } from './lock.js';
import { canBind, GATEWAY_SOURCE_ADDRESS, proxyTrust, TLS_PROXY_ADDRESS } from './loopback.js';
import { assertPortFree } from './ports.js';
import { hasPostgresServer, postgresCanReach, startLocalPostgres, type LocalPostgres } from './postgres.js';
import { SupervisedProcess } from './supervisor.js';
import { SERVICES, type InstanceInfo, type LauncherState, type ServiceName } from './state.js';
import { removeStateFile, STATE_FILE } from './state-file.js';
import { ensureCertificate, startTlsProxy } from './tls.js';
import { ensureWebBuilt, WEB_DIST } from './web.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export { SERVICES, type ServiceName };

export interface LauncherOptions {
  /** Data folder (PGlite, local objects, keys, certificate, logs). Default: <repo>/.data */
  dataDir?: string;
  /** Gateway address; services themselves listen on 127.0.0.1 only. */
  host?: string;
  /** Gateway public port; 0 = every port picked free (tests). Auth and images use port+1, port+2. */
  port?: number;
  /** Management ports start here: gateway, auth, images. */
  managementPort?: number;
  https?: boolean;
  httpsPort?: number;
  instances?: Partial<Record<ServiceName, number>>;
  /**
   * Where Auth and Images keep their data without a DATABASE_URL: `postgres` = one local PostgreSQL
   * server for both (the default when its binaries are installed), `pglite` = embedded PGlite in each
   * service (about 0.5 GB each; see docs/local.md "Footprint"). `auto` keeps a folder's existing PGlite data.
   */
  database?: 'auto' | 'postgres' | 'pglite';
  /** The environment services inherit (DATABASE_URL, S3_*, LOG_LEVEL, limits …). */
  env?: NodeJS.ProcessEnv;
  verbose?: boolean;
  say?: (line: string) => void;
  /** Restart back-off of crashed services. */
  initialBackoffMs?: number;
  readyTimeoutMs?: number;
}

export type { InstanceInfo, LauncherState };

interface Instance {
  label: string;
  port: number;
  managementPort: number;
  process: SupervisedProcess;
}

interface ServiceRuntime {
  name: ServiceName;
  /** Where other services and clients reach it (the balancer when there are several instances). */
  port: number;
  instances: Instance[];
  balancer?: RoundRobinBalancer;
  /** The instances the balancer may use: ready ones, as a Kubernetes Service's endpoints. */
  endpoints?: ReadinessEndpoints;
}

/**
 * Each service runs from the JavaScript compileServices() writes beside its sources (compile.ts), as in
 * the container images: the tracing preload first (--import: it must run before the entry point imports
 * anything), then the entry point. Paths are relative to the repository root, the processes' cwd.
 */
export const serviceArgs = (name: ServiceName): string[] => [
  '--enable-source-maps',
  '--import',
  `./services/${name}/dist/tracing.js`,
  `services/${name}/dist/main.js`,
];

/** Variables the launcher sets per service; inherited values would point every service at one port or database. */
const PER_SERVICE_VARIABLES = ['HOST', 'PORT', 'MANAGEMENT_PORT', 'DATABASE_URL', 'PGLITE_DATA_DIR'];

/**
 * `npm start`: Auth, Images and the gateway as separate processes (as in a cluster), with embedded
 * defaults (PGlite, local object storage, a development signing key) under the data folder.
 */
export class Launcher {
  readonly options: Required<Omit<LauncherOptions, 'instances' | 'env'>> & { instances: Record<ServiceName, number>; env: NodeJS.ProcessEnv };
  readonly #services = new Map<ServiceName, ServiceRuntime>();
  #tlsServer: Server | undefined;
  #postgres: LocalPostgres | undefined;
  #stopping: Promise<void> | undefined;
  #state: LauncherState | undefined;
  #tlsProxyAddress: string | undefined;
  #lock: DataDirLock | undefined;
  readonly #exitHook = () => {
    for (const service of this.#services.values()) for (const instance of service.instances) instance.process.killNow();
    this.#postgres?.stopNow();
    this.#releaseDataDir();
  };

  constructor(options: LauncherOptions = {}) {
    const instances = { auth: 1, images: 1, gateway: 1, ...options.instances };
    this.options = {
      dataDir: resolve(options.dataDir ?? join(REPO_ROOT, '.data')),
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      managementPort: options.managementPort ?? 9464,
      https: options.https ?? false,
      httpsPort: options.httpsPort ?? 8443,
      instances,
      env: options.env ?? process.env,
      verbose: options.verbose ?? false,
      say: options.say ?? ((line) => process.stdout.write(`${line}\n`)),
      initialBackoffMs: options.initialBackoffMs ?? 500,
      readyTimeoutMs: options.readyTimeoutMs ?? 240_000,
      database: options.database ?? 'auto',
    };
  }

  get state(): LauncherState {
    if (!this.#state) throw new Error('launcher not started');
    return this.#state;
  }

  async start(): Promise<LauncherState> {
    const { dataDir, say } = this.options;
    const env = this.options.env;
    if (this.options.instances.gateway < 1 || this.options.instances.auth < 1 || this.options.instances.images < 1)
      throw new Error('each service needs at least one instance');
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    // First the folder lock, then every port check: nothing is generated or written (signing key,
    // database, web build, logs) by a launcher that cannot run (issue 15 items 11 and 17).
    this.#lock = lockDataDir(dataDir);
    process.once('exit', this.#exitHook);
    // We hold the lock, so a launcher.json here is left by a launcher that was killed.
    removeStateFile(dataDir);

    const auto = this.options.port === 0;
    const publicPort = async (offset: number) => (auto ? freePort() : this.options.port + offset);
    const managementPort = async (offset: number) => (auto ? freePort() : this.options.managementPort + offset);
    const ports: Record<ServiceName, number> = { gateway: await publicPort(0), auth: await publicPort(1), images: await publicPort(2) };
    const mgmtPorts: Record<ServiceName, number> = { gateway: await managementPort(0), auth: await managementPort(1), images: await managementPort(2) };

    // A private PostgreSQL only for services run as several instances without a DATABASE_URL.
    const databaseUrl: Partial<Record<ServiceName, string>> = {
      auth: env.AUTH_DATABASE_URL || env.DATABASE_URL || undefined,
      images: env.IMAGES_DATABASE_URL || env.DATABASE_URL || undefined,
    };
    // Several instances always need a server (PGlite is single-process); otherwise see `database`.
    const { database } = this.options;
    const serverUsable = database === 'auto' && hasPostgresServer() && postgresCanReach(dataDir);
    const useServer = (s: 'auth' | 'images') =>
      this.options.instances[s] > 1 || database === 'postgres' || (serverUsable && !existsSync(join(dataDir, s, 'pglite')));
    const needsPostgres = (['auth', 'images'] as const).filter((s) => !databaseUrl[s] && useServer(s));
    const pgPort = needsPostgres.length === 0 ? undefined : auto ? await freePort() : this.options.port + 3;

    if (!auto) {
      for (const name of SERVICES) {
        await assertPortFree(name === 'gateway' ? this.options.host : '127.0.0.1', ports[name], `${name}`);
        await assertPortFree('127.0.0.1', mgmtPorts[name], `${name} management`);
      }
      if (this.options.https) await assertPortFree(this.options.host, this.options.httpsPort, 'HTTPS');
      if (pgPort !== undefined) await assertPortFree('127.0.0.1', pgPort, 'local PostgreSQL');
    }

    mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
    if (await ensureWebBuilt()) say(`[launcher] built the web app into ${WEB_DIST}`);
    const compiled = await compileServices(REPO_ROOT);
    if (compiled.written > 0) say(`[launcher] compiled ${compiled.written} changed service files into their dist/ folders`);
    if (pgPort !== undefined) {
      this.#postgres = await startLocalPostgres(join(dataDir, 'postgres'), pgPort, say);
      for (const s of needsPostgres) databaseUrl[s] = await this.#postgres.databaseUrl(s);
    }

    const signingKey = env.JWT_PRIVATE_KEY ? undefined : ensureDevSigningKey(join(dataDir, 'keys'));
    if (signingKey?.created) say(`[launcher] generated a development signing key: ${signingKey.file}`);

    const trust = proxyTrust(this.options.https, { tlsProxy: await canBind(TLS_PROXY_ADDRESS), gatewaySource: await canBind(GATEWAY_SOURCE_ADDRESS) });
    for (const warning of trust.warnings) say(`[launcher] note: ${warning}`);
    this.#tlsProxyAddress = trust.tlsProxyAddress;

    const baseEnv: NodeJS.ProcessEnv = { ...env };
    for (const name of PER_SERVICE_VARIABLES) delete baseEnv[name];
    Object.assign(baseEnv, {
      // One machine, no load balancer to drain from: stop promptly.
      DRAIN_DELAY_MS: env.DRAIN_DELAY_MS ?? '0',
      SHUTDOWN_TIMEOUT_MS: env.SHUTDOWN_TIMEOUT_MS ?? '10000',
      NODE_ENV: env.NODE_ENV ?? 'development',
      // Every OTEL_* variable given passes through (baseEnv copies env). Without an endpoint, traces go
      // to `npm run observe`'s receiver; with none listening, each service warns once and drops spans.
      ...localTracingDefaults(env),
    });
    const serviceEnv: Record<ServiceName, NodeJS.ProcessEnv> = {
      auth: {
        ...baseEnv,
        ...(signingKey ? { JWT_PRIVATE_KEY: signingKey.privateKeyPem } : {}),
        ...(databaseUrl.auth ? { DATABASE_URL: databaseUrl.auth } : { PGLITE_DATA_DIR: join(dataDir, 'auth', 'pglite') }),
        // The gateway forwards the client address; auth throttles logins per client IP and believes
        // the forwarded address only from the gateway's own source address and its proxy (loopback.ts).
        TRUST_PROXY: env.AUTH_TRUST_PROXY ?? trust.upstreamTrustProxy,
      },
      images: {
        ...baseEnv,
        ...(databaseUrl.images ? { DATABASE_URL: databaseUrl.images } : { PGLITE_DATA_DIR: join(dataDir, 'images', 'pglite') }),
        AUTH_JWKS_URL: `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`,
        // The client address in Images' request log, believed as Auth believes it.
        TRUST_PROXY: env.IMAGES_TRUST_PROXY ?? trust.upstreamTrustProxy,
        STORAGE_DRIVER: env.STORAGE_DRIVER ?? 'local',
        // libvips (sharp) decodes on several threads; glibc gives each its own malloc arena and keeps
        // the freed memory there (sharp's documentation warns about glibc's allocator and suggests
        // jemalloc; fewer arenas needs no extra library). Two arenas: Images about 25 MB smaller after an
        // upload burst in one run (issue 11, docs/local.md#footprint).
        MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2',
        STORAGE_LOCAL_DIR: env.STORAGE_LOCAL_DIR ?? join(dataDir, 'images', 'objects'),
      },
      gateway: {
        ...baseEnv,
        AUTH_URL: `http://127.0.0.1:${ports.auth}`,
        IMAGES_URL: `http://127.0.0.1:${ports.images}`,
        WEB_ROOT: WEB_DIST,
        // Only the local TLS proxy, from its own address, may tell the gateway the client's address and
        // scheme; without HTTPS nobody may (every local client is 127.0.0.1).
        TRUST_PROXY: env.GATEWAY_TRUST_PROXY ?? trust.gatewayTrustProxy,
        ...(trust.gatewaySourceAddress && !env.UPSTREAM_LOCAL_ADDRESS ? { UPSTREAM_LOCAL_ADDRESS: trust.gatewaySourceAddress } : {}),
      },
    };

    for (const name of SERVICES) {
      const count = this.options.instances[name];
      const runtime: ServiceRuntime = { name, port: ports[name], instances: [] };
      for (let i = 1; i <= count; i++) {
        const label = count > 1 ? `${name}#${i}` : name;
        const port = count > 1 ? await freePort() : ports[name];
        const mgmt = i === 1 ? mgmtPorts[name] : await freePort();
        const host = name === 'gateway' && count === 1 ? this.options.host : '127.0.0.1';
        const supervised = new SupervisedProcess({
          label,
          command: process.execPath,
          args: serviceArgs(name),
          cwd: REPO_ROOT,
          env: { ...serviceEnv[name], HOST: host, PORT: String(port), MANAGEMENT_PORT: String(mgmt) },
          logFile: join(dataDir, 'logs', `${label.replace('#', '-')}.log`),
          say,
          verbose: this.options.verbose,
          initialBackoffMs: this.options.initialBackoffMs,
          onStart: () => this.#writeState(),
        });
        runtime.instances.push({ label, port, managementPort: mgmt, process: supervised });
      }
      if (count > 1) {
        const host = name === 'gateway' ? this.options.host : '127.0.0.1';
        const endpoints = new ReadinessEndpoints(() => runtime.instances);
        runtime.endpoints = endpoints;
        runtime.balancer = new RoundRobinBalancer(host, ports[name], () => endpoints.ports());
        await runtime.balancer.listen();
        endpoints.start();
      }
      this.#services.set(name, runtime);
    }

    // Auth and Images first (the gateway's readiness needs Auth's keys), then the gateway.
    for (const name of ['auth', 'images'] as const) for (const instance of this.#services.get(name)!.instances) instance.process.start();
    await Promise.all(['auth', 'images'].flatMap((name) => this.#services.get(name as ServiceName)!.instances.map((i) => this.#waitReady(i))));
    for (const instance of this.#services.get('gateway')!.instances) instance.process.start();
    await Promise.all(this.#services.get('gateway')!.instances.map((i) => this.#waitReady(i)));

    if (this.options.https) {
      const { certFile, keyFile } = ensureCertificate(join(dataDir, 'tls'));
      const httpsPort = auto ? await freePort() : this.options.httpsPort;
      const source = this.#tlsProxyAddress ? { localAddress: this.#tlsProxyAddress } : {};
      this.#tlsServer = await startTlsProxy({ host: this.options.host, port: httpsPort, certFile, keyFile, targetPort: ports.gateway, ...source });
      this.options.httpsPort = httpsPort;
    }
    this.#writeState();
    return this.state;
  }

  #writeState(): void {
    if (this.#services.size < SERVICES.length) return;
    const displayHost = this.options.host === '0.0.0.0' || this.options.host === '127.0.0.1' ? 'localhost' : this.options.host;
    const services = {} as LauncherState['services'];
    for (const [name, runtime] of this.#services) {
      services[name] = {
        url: `http://127.0.0.1:${runtime.port}`,
        instances: runtime.instances.map((i) => ({
          label: i.label,
          port: i.port,
          managementPort: i.managementPort,
          pid: i.process.pid,
          managementUrl: `http://127.0.0.1:${i.managementPort}`,
        })),
      };
    }
    this.#state = {
      appUrl: `http://${displayHost}:${this.#services.get('gateway')!.port}`,
      ...(this.#tlsServer ? { httpsUrl: `https://${displayHost}:${this.options.httpsPort}` } : {}),
      dataDir: this.options.dataDir,
      services,
    };
    if (!this.#lock) return;
    writeFileSync(join(this.options.dataDir, STATE_FILE), `${JSON.stringify({ pid: process.pid, ...this.#state }, null, 2)}\n`);
  }

  async #waitReady(instance: Instance): Promise<void> {
    const started = Date.now();
    const deadline = started + this.options.readyTimeoutMs;
    let nextNotice = started + 30_000;
    const url = `http://127.0.0.1:${instance.managementPort}/readyz`;
    for (;;) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > nextNotice) {
        this.options.say(
          `[launcher] still waiting for ${instance.label} to become ready (${Math.round((Date.now() - started) / 1000)} s; a busy machine is slow to start)`,
        );
        nextNotice += 30_000;
      }
      if (Date.now() > deadline)
        throw new Error(`${instance.label} did not become ready within ${this.options.readyTimeoutMs / 1000} s (see ${join(this.options.dataDir, 'logs')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** launcher.json goes first (it would describe dead processes), then the lock. Only when we hold it. */
  #releaseDataDir(): void {
    if (!this.#lock) return;
    removeStateFile(this.options.dataDir);
    this.#lock.release();
    this.#lock = undefined;
  }

  instances(name: ServiceName): readonly Instance[] {
    return this.#services.get(name)?.instances ?? [];
  }

  /** The labels of the instances new connections to a service may go to now (its endpoints, endpoints.ts). */
  inRotation(name: ServiceName): string[] {
    const runtime = this.#services.get(name);
    if (!runtime) return [];
    const ports = runtime.endpoints?.ports() ?? runtime.instances.filter((i) => i.process.running).map((i) => i.port);
    return runtime.instances.filter((i) => ports.includes(i.port)).map((i) => i.label);
  }

  /** Stops every instance of a service (fault drills); it stays down until startService. */
  async stopService(name: ServiceName): Promise<void> {
    await Promise.all(this.instances(name).map((i) => i.process.stop()));
    this.#writeState();
  }

  async startService(name: ServiceName): Promise<void> {
    for (const instance of this.instances(name)) instance.process.start();
    await Promise.all(this.instances(name).map((i) => this.#waitReady(i)));
    this.#writeState();
  }

  /**
   * Restarts every instance of a service without `variables` (drills: "the Secret was deleted"). It
   * does not wait for readiness: without its secrets a service must refuse to start, and the
   * supervisor's restarts become a crash loop. The returned function puts the variables back and
   * waits until the service is ready again.
   */
  async restartWithout(name: ServiceName, variables: readonly string[]): Promise<() => Promise<void>> {
    const originals = this.instances(name).map((i) => ({ instance: i, env: i.process.env }));
    for (const { instance, env } of originals) {
      const reduced = { ...env };
      for (const v of variables) delete reduced[v];
      await instance.process.restartWithEnv(reduced);
    }
    return async () => {
      for (const { instance, env } of originals) await instance.process.restartWithEnv(env);
      await this.waitReady(name);
      this.#writeState();
    };
  }

  async waitReady(name: ServiceName): Promise<void> {
    await Promise.all(this.instances(name).map((i) => this.#waitReady(i)));
  }

  /** Ctrl-C: the gateway first (no new traffic), then the services, then PostgreSQL. Safe twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await new Promise<void>((r) => (this.#tlsServer ? this.#tlsServer.close(() => r()) : r()));
      for (const name of ['gateway', 'images', 'auth'] as const) {
        const runtime = this.#services.get(name);
        if (!runtime) continue;
        await Promise.all(runtime.instances.map((i) => i.process.stop()));
        runtime.endpoints?.stop();
        await runtime.balancer?.close();
      }
      await this.#postgres?.stop();
      for (const runtime of this.#services.values()) for (const i of runtime.instances) i.process.closeLog();
      this.#releaseDataDir();
      process.removeListener('exit', this.#exitHook);
    })();
    return this.#stopping;
  }
}

/** `npm start` traces into `npm run observe` (OTLP/HTTP JSON on 4318) unless told otherwise (docs/tracing.md). */
export const LOCAL_OTLP_ENDPOINT = 'http://127.0.0.1:4318';

export function localTracingDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_SDK_DISABLED === 'true') return {};
  return { OTEL_EXPORTER_OTLP_ENDPOINT: LOCAL_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json' };
}
