import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * One service instance as a child process, restarted with exponential back-off when it dies
 * unexpectedly (as a kubelet would). Its logs go to a file; the console gets warnings and errors.
 */

export interface SupervisedOptions {
  /** "auth", "images#2", … */
  label: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Launcher output (one line each). */
  say: (line: string) => void;
  /** Every child log line on the console, not only warnings and errors. */
  verbose: boolean;
  /** Called after each (re)start with the new pid. */
  onStart?: (pid: number) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run this long counts as healthy: the back-off starts over. */
  stableAfterMs?: number;
  stopTimeoutMs?: number;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export class SupervisedProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #wanted = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #startedAt = 0;
  #log: WriteStream;
  restarts = 0;

  constructor(private readonly options: SupervisedOptions) {
    this.#backoffMs = options.initialBackoffMs ?? 500;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get label(): string {
    return this.options.label;
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Told to stop and not gone yet (draining): a Kubernetes endpoint drops such a pod at once. */
  get terminating(): boolean {
    return !this.#wanted && this.running;
  }

  /**
   * Stops the process and starts it again with `env`; later automatic restarts keep it, like pods
   * re-created from a changed Deployment. Drills use it to take a Secret's variables away.
   */
  async restartWithEnv(env: NodeJS.ProcessEnv): Promise<void> {
    await this.stop();
    this.options.env = env;
    this.start();
  }

  /** A copy of the environment the next start will use. */
  get env(): NodeJS.ProcessEnv {
    return { ...this.options.env };
  }

  start(): void {
    this.#wanted = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    if (this.running) return;
    this.#spawn();
  }

  #spawn(): void {
    const { options } = this;
    // Own process group: Ctrl-C reaches the launcher only, which then stops services in order.
    const child = spawn(options.command, [...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    this.#startedAt = Date.now();
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      const lines = createInterface({ input: stream });
      lines.on('line', (line) => this.#onLine(line));
    }
    child.once('error', (err) => options.say(`[${options.label}] could not start: ${err.message}`));
    child.once('exit', (code, signal) => this.#onExit(child, code, signal));
    if (child.pid !== undefined) options.onStart?.(child.pid);
  }

  #onLine(line: string): void {
    this.#log.write(`${line}\n`);
    let level = 50;
    let text = line;
    try {
      const entry = JSON.parse(line) as { level?: string | number; msg?: string; err?: { message?: string }; reason?: string };
      level = typeof entry.level === 'number' ? entry.level : ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }[String(entry.level)] ?? 30);
      const detail = entry.err?.message ?? entry.reason;
      text = `${LEVELS[level] ?? level} ${entry.msg ?? ''}${detail ? ` (${detail})` : ''}`;
    } catch {
      // not JSON: a crash trace or a warning from Node itself; always worth showing
    }
    if (this.options.verbose || level >= 40) this.options.say(`[${this.options.label}] ${text}`);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child || !this.#wanted) return;
    const ranMs = Date.now() - this.#startedAt;
    if (ranMs > (this.options.stableAfterMs ?? 30_000)) this.#backoffMs = this.options.initialBackoffMs ?? 500;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.restarts++;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.options.say(
      `[launcher] ${this.options.label} ${how}; restarting in ${(delay / 1000).toFixed(1)} s (restart #${this.restarts}; logs: ${this.options.logFile})`,
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#wanted) this.#spawn();
    }, delay);
  }

  /** SIGTERM (the service drains and exits 0), then SIGKILL after the timeout. Not restarted. */
  async stop(): Promise<void> {
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 15_000).unref());
    if ((await Promise.race([this.#exited.then(() => 'exited' as const), timeout])) === 'timeout') {
      this.options.say(`[launcher] ${this.options.label} did not stop in time; killing it`);
      child.kill('SIGKILL');
      await this.#exited;
    }
  }

  /** Last resort when the launcher itself exits: no process is left behind holding a port. */
  killNow(): void {
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  closeLog(): void {
    this.#log.end();
  }
}
