import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

/** A benchmark candidate in its own process, with its output in a log file (never on our terminal). */
export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Processes whose CPU time is this candidate's (nginx: its worker). */
  cpuPids(): number[];
  stop(): Promise<void>;
}

export function startProcess(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): BenchProcess {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', log, log] });
  return {
    name,
    child,
    logFile: options.logFile,
    cpuPids: () => (child.pid ? [child.pid, ...childPids(child.pid)] : []),
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after 5 s: bounded whatever the child does. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function childPids(pid: number): number[] {
  try {
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return direct.flatMap((p) => [p, ...childPids(p)]);
  } catch {
    return [];
  }
}

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ on Linux

/** User + system CPU seconds consumed so far by these processes (Linux /proc; 10 ms resolution). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / CLOCK_TICKS_PER_SEC;
}

/** Polls `url` until it answers 2xx; bounded in time. */
export async function waitHttpOk(
  url: string,
  what: string,
  options: { timeoutMs?: number; headers?: Record<string, string>; process?: BenchProcess } = {},
): Promise<void> {
  const { timeoutMs = 60_000, headers = {} } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const child = options.process?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering; its log: ${options.process?.logFile}`);
    }
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer 2xx at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
