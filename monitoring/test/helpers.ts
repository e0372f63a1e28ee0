import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { freePort, requireTool, waitFor } from '@sre/testkit';
import { repoRoot } from '../lib/paths.js';

const execFileAsync = promisify(execFile);

export const PROMETHEUS_HINT = 'apt-get install prometheus';
export const ALERTMANAGER_HINT = 'apt-get install prometheus-alertmanager';

export const needPromtool = () => requireTool('promtool', PROMETHEUS_HINT);
export const needPrometheus = () => requireTool('prometheus', PROMETHEUS_HINT);
export const needAmtool = () => requireTool('amtool', ALERTMANAGER_HINT);
export const needAlertmanager = () => requireTool('prometheus-alertmanager', ALERTMANAGER_HINT);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`); never throws on a non-zero exit. */
export async function run(cmd: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, {
      cwd: options.cwd ?? repoRoot,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `sre-monitoring-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A real server process (Prometheus, Alertmanager) on loopback, stopped with SIGTERM. */
export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

async function startServerProcess(cmd: string, args: (port: number) => string[], readyPath: string, what: string, fixedPort?: number): Promise<ServerProcess> {
  const port = fixedPort ?? (await freePort());
  let output = '';
  const child: ChildProcess = spawn(cmd, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${output}`);
        const res = await fetch(url + readyPath);
        return res.ok;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `${what} on ${url}` },
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output.slice(-3000)}`);
  }
  return {
    url,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The Debian `prometheus-alertmanager` with `configFile`, on 127.0.0.1, no gossip cluster. */
export function startAlertmanager(configFile: string, storageDir: string): Promise<ServerProcess> {
  return startServerProcess(
    'prometheus-alertmanager',
    (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${storageDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    '/-/ready',
    'Alertmanager',
  );
}

/** The Debian `prometheus` with `configFile`, on 127.0.0.1. */
export function startPrometheus(configFile: string, storageDir: string, port?: number): Promise<ServerProcess> {
  return startServerProcess(
    'prometheus',
    (p) => [`--config.file=${configFile}`, `--storage.tsdb.path=${storageDir}`, `--web.listen-address=127.0.0.1:${p}`, '--log.level=warn'],
    '/-/ready',
    'Prometheus',
    port,
  );
}

/** What a Slack incoming webhook receives: Alertmanager's JSON payload. */
export interface SlackMessage {
  channel?: string;
  username?: string;
  text?: string;
  attachments?: Array<{ title?: string; title_link?: string; text?: string; color?: string; fallback?: string }>;
}

/**
 * A Slack-compatible incoming-webhook receiver on loopback: it accepts only POSTs of JSON on its hook
 * path (as Slack does, answering "ok"), rejects anything else with 400, and keeps what it received.
 */
export async function startFakeSlack(): Promise<{ url: string; messages: SlackMessage[]; rejected: string[]; close(): Promise<void> }> {
  const messages: SlackMessage[] = [];
  const rejected: string[] = [];
  const hookPath = '/services/T000/B000/test-hook';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        if (req.method !== 'POST' || req.url !== hookPath || !String(req.headers['content-type']).startsWith('application/json'))
          throw new Error(`${req.method} ${req.url}`);
        messages.push(JSON.parse(body) as SlackMessage);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch (err) {
        rejected.push(String(err));
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${hookPath}`,
    messages,
    rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One section of monitoring/test/fixtures/external-metrics.json (the committed metric names of other components). */
export function externalSection(section: string): string[] {
  const all = JSON.parse(readFileSync(join(repoRoot, 'monitoring', 'test', 'fixtures', 'external-metrics.json'), 'utf8')) as Record<string, string[]>;
  const names = all[section];
  if (!names) throw new Error(`no section "${section}" in external-metrics.json`);
  return names;
}

/** Metric names in Prometheus text exposition (histograms and summaries expanded to their series names). */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)/.exec(line);
    if (type?.[1] && type[2]) {
      const [, name, kind] = type;
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      else if (kind === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
      else names.add(name);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}

// --- The services, built as their tests build them: buildApp(config) that never listens ---------------

interface ManagementLike {
  inject(options: { method: 'GET'; url: string }): Promise<{ statusCode: number; body: string }>;
  listen(options: { host: string; port: number }): Promise<string>;
}
interface PublicLike {
  inject(options: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<{ statusCode: number }>;
}
export interface LiveService {
  readonly name: 'auth' | 'gateway' | 'images';
  readonly app: PublicLike;
  readonly management: ManagementLike;
  close(): Promise<void>;
}

export const SERVICE_NAMES = ['auth', 'gateway', 'images'] as const;

/** True when services/<name>/src/app.ts exists (a service being added may not have one yet). */
export function serviceAvailable(name: string): boolean {
  return existsSync(join(repoRoot, 'services', name, 'src', 'app.ts')) && existsSync(join(repoRoot, 'services', name, 'src', 'config.ts'));
}

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });

interface ServiceModules {
  configSchema: unknown;
  buildApp: (config: unknown, deps: Record<string, unknown>) => unknown;
}

/**
 * Each service's exports (`@sre/<name>/config`, `/app`), imported dynamically so only the services a
 * test asks for are loaded, and by literal names so that the test bundler (and a reader) can follow
 * them: a computed `@sre/${name}/app` would be resolved at run time to the compiled dist/.
 */
const SERVICE_MODULES: Record<(typeof SERVICE_NAMES)[number], () => Promise<ServiceModules>> = {
  auth: async () => ({ ...(await import('@sre/auth/config')), ...(await import('@sre/auth/app')) }) as unknown as ServiceModules,
  gateway: async () => ({ ...(await import('@sre/gateway/config')), ...(await import('@sre/gateway/app')) }) as unknown as ServiceModules,
  images: async () => ({ ...(await import('@sre/images/config')), ...(await import('@sre/images/app')) }) as unknown as ServiceModules,
};

/**
 * Builds one service with a configuration good for a short test: embedded PGlite in memory, a local
 * storage directory, a fresh signing key.
 */
export async function buildLiveService(name: (typeof SERVICE_NAMES)[number], workDir: string): Promise<LiveService> {
  const platform = (await import('@sre/platform')) as { parseConfig: (s: string, schema: unknown, env: Record<string, string>) => unknown };
  const service = await SERVICE_MODULES[name]();
  const env: Record<string, string> = { LOG_LEVEL: 'silent', READINESS_CACHE_MS: '0', DRAIN_DELAY_MS: '0' };
  if (name === 'auth') {
    env.JWT_PRIVATE_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  if (name === 'images') {
    env.STORAGE_LOCAL_DIR = join(workDir, `objects-${name}`);
  }
  const config = platform.parseConfig(name, service.configSchema, env);
  const built = (await service.buildApp(config, { logDestination: quiet() })) as {
    app: PublicLike;
    management: ManagementLike;
    ready?: Promise<unknown>;
    close(): Promise<void>;
  };
  if (built.ready) await Promise.race([built.ready, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  return { name, app: built.app, management: built.management, close: () => built.close() };
}
