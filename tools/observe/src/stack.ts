import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, alertmanagerConfig, prometheusConfig, ruleFiles, scaledRules, type ScrapeTarget } from './config.js';
import { startSlackSink, type SlackSink } from './sink.js';
import { freePort } from '@sre/testkit';

/**
 * The local observability stack: the real Prometheus and Alertmanager binaries from Debian,
 * configured from monitoring/ (config.ts), plus the Slack sink when SLACK_WEBHOOK_URL is unset.
 */

export const REQUIRED_BINARIES = [
  { command: 'prometheus', debianPackage: 'prometheus' },
  { command: 'prometheus-alertmanager', debianPackage: 'prometheus-alertmanager' },
] as const;

export function missingBinaries(): string[] {
  return REQUIRED_BINARIES.filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b.command}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  }).map((b) => b.debianPackage);
}

export function missingBinariesMessage(missing: readonly string[]): string {
  return `npm run observe needs the Debian packages ${missing.join(' and ')} (commands ${REQUIRED_BINARIES.filter((b) => missing.includes(b.debianPackage))
    .map((b) => b.command)
    .join(', ')}): sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`;
}

export interface ObserveOptions {
  targets: readonly ScrapeTarget[];
  /** Where configs, TSDB and logs go (wiped at start: the local stack keeps no history). */
  dataDir: string;
  host?: string;
  prometheusPort?: number;
  alertmanagerPort?: number;
  sinkPort?: number;
  /**
   * Probe every target's /readyz like a kubelet readiness probe (default true). The platform
   * refreshes service_health_check_status only when readiness is asked for; in the cluster the
   * kubelet asks every few seconds, locally nothing else does, and the readiness and dependency
   * alerts would see a stale gauge.
   */
  probeReadiness?: boolean;
  /** Real Slack webhook; when unset the local sink receives notifications. */
  slackWebhookUrl?: string;
  scrapeIntervalSeconds?: number;
  timeScale?: number;
  print?: (line: string) => void;
}

export interface ObserveStack {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly sink?: SlackSink;
  readonly sinkUrl?: string;
  readonly stateFile: string;
  readonly timeScale: number;
  readonly scrapeIntervalSeconds: number;
  /** New scrape targets (the launcher restarted with other ports): rewrites prometheus.yml and reloads. */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  stop(): Promise<void>;
}

export interface ObserveState {
  prometheusUrl: string;
  alertmanagerUrl: string;
  sinkUrl?: string;
  timeScale: number;
  scrapeIntervalSeconds: number;
  targets: readonly ScrapeTarget[];
  pid: number;
  startedAt: string;
}

/** The last lines of a log, quoted in a start failure: the folder holding it may be a test's, removed right after. */
function logTail(logFile: string): string {
  const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-10) : [];
  return lines.length > 0 && lines[0] !== '' ? `; its last lines:\n${lines.join('\n')}` : '';
}

async function waitReady(url: string, child: ChildProcess, name: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see ${logFile}${logTail(logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready within 30 s; see ${logFile}${logTail(logFile)}`);
}

export async function startObserve(options: ObserveOptions): Promise<ObserveStack> {
  const missing = missingBinaries();
  if (missing.length > 0) throw new Error(missingBinariesMessage(missing));
  const host = options.host ?? '127.0.0.1';
  const print = options.print ?? ((line: string) => console.log(line));
  const timeScale = options.timeScale ?? 1;
  const scrapeIntervalSeconds = options.scrapeIntervalSeconds ?? (timeScale > 1 ? 1 : 5);
  rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  chmodSync(options.dataDir, 0o700);

  let targets = [...options.targets];
  const prometheusPort = options.prometheusPort ?? (await freePort(host));
  const alertmanagerPort = options.alertmanagerPort ?? (await freePort(host));
  const children: ChildProcess[] = [];
  let sink: SlackSink | undefined;
  // Last resort when our process exits without stop(): no Prometheus is left holding a port.
  const exitHook = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.once('exit', exitHook);
  let prober: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(prober);
    process.removeListener('exit', exitHook);
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    await sink?.close();
  };

  try {
    if (!options.slackWebhookUrl) {
      sink = await startSlackSink({
        host,
        ...(options.sinkPort ? { port: options.sinkPort } : {}),
        file: join(options.dataDir, 'slack-notifications.jsonl'),
        print,
      });
    }
    const slackUrl = options.slackWebhookUrl ?? (sink as SlackSink).webhookUrl;

    let rules = ruleFiles();
    if (timeScale !== 1) {
      const dir = join(options.dataDir, 'rules');
      mkdirSync(dir);
      rules = rules.map((file) => {
        const out = join(dir, file.split('/').at(-1) as string);
        writeFileSync(out, scaledRules(file, timeScale, scrapeIntervalSeconds));
        return out;
      });
    }
    const promConfigFile = join(options.dataDir, 'prometheus.yml');
    const writePrometheusConfig = () =>
      writeFileSync(
        promConfigFile,
        prometheusConfig(
          {
            targets,
            alertmanagerAddress: `${host}:${alertmanagerPort}`,
            prometheusAddress: `${host}:${prometheusPort}`,
            slackUrl,
            outDir: options.dataDir,
            scrapeIntervalSeconds,
            timeScale,
          },
          rules,
        ),
      );
    writePrometheusConfig();
    const amConfigFile = join(options.dataDir, 'alertmanager.yml');
    // The file may hold the real webhook URL: readable by the owner only.
    writeFileSync(amConfigFile, alertmanagerConfig({ slackUrl, timeScale }), { mode: 0o600 });

    const spawnLogged = (name: string, command: string, args: string[]) => {
      const logFile = join(options.dataDir, `${name}.log`);
      const log = createWriteStream(logFile);
      // Own process group: a terminal Ctrl-C reaches only us, and we stop them in order (a drill
      // still needs them while it rolls back).
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.dataDir, detached: true });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      children.push(child);
      return { child, logFile };
    };

    const am = spawnLogged('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${amConfigFile}`,
      `--storage.path=${join(options.dataDir, 'alertmanager-data')}`,
      `--web.listen-address=${host}:${alertmanagerPort}`,
      // One machine: no gossip cluster (and no port 9094 taken).
      '--cluster.listen-address=',
      `--web.external-url=http://${host}:${alertmanagerPort}`,
    ]);
    const prom = spawnLogged('prometheus', 'prometheus', [
      `--config.file=${promConfigFile}`,
      `--storage.tsdb.path=${join(options.dataDir, 'prometheus-data')}`,
      '--storage.tsdb.retention.time=1d',
      `--web.listen-address=${host}:${prometheusPort}`,
      `--web.external-url=http://${host}:${prometheusPort}`,
      '--web.enable-lifecycle',
      // Keep the exemplars (trace ids) the services' latency histograms carry: the viewer links them to traces.
      '--enable-feature=exemplar-storage',
      // Resend firing alerts as often as Alertmanager's own timers expect them, scaled like them.
      `--rules.alert.resend-delay=${Math.max(1, Math.round(60 / timeScale))}s`,
    ]);
    const prometheusUrl = `http://${host}:${prometheusPort}`;
    const alertmanagerUrl = `http://${host}:${alertmanagerPort}`;
    await Promise.all([
      waitReady(`${alertmanagerUrl}/-/ready`, am.child, 'Alertmanager', am.logFile),
      waitReady(`${prometheusUrl}/-/ready`, prom.child, 'Prometheus', prom.logFile),
    ]);

    if (options.probeReadiness ?? true) {
      let probing = false;
      prober = setInterval(() => {
        if (probing) return;
        probing = true;
        void Promise.allSettled(
          targets.map(async (t) => {
            const res = await fetch(`http://${t.address}/readyz`, { signal: AbortSignal.timeout(2000) });
            await res.arrayBuffer();
          }),
        ).finally(() => (probing = false));
      }, scrapeIntervalSeconds * 1000);
      prober.unref();
    }

    const stateFile = join(options.dataDir, 'state.json');
    const state: ObserveState = {
      prometheusUrl,
      alertmanagerUrl,
      ...(sink ? { sinkUrl: sink.url } : {}),
      timeScale,
      scrapeIntervalSeconds,
      targets,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    return {
      prometheusUrl,
      alertmanagerUrl,
      ...(sink ? { sink, sinkUrl: sink.url } : {}),
      stateFile,
      timeScale,
      scrapeIntervalSeconds,
      async setTargets(next) {
        targets = [...next];
        writePrometheusConfig();
        writeFileSync(stateFile, `${JSON.stringify({ ...state, targets }, null, 2)}\n`);
        const res = await fetch(`${prometheusUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`Prometheus reload failed: ${res.status} ${await res.text()}`);
      },
      async stop() {
        await stop();
        rmSync(stateFile, { force: true });
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export const DEFAULT_OBSERVE_DIR = join(REPO_ROOT, '.data', 'observe');
