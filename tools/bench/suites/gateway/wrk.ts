import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx answers: wrong answers, so the run is void. */
  non2xx: number;
  /** Connect/read/write errors and requests over wrk's timeout: reported beside the figures. */
  socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(output: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
  if (!match) throw new Error(`wrk output has no ${percentile}% latency:\n${output}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Parses `wrk --latency` output (wrk 4.x). Exported for its test. */
export function parseWrk(output: string): WrkResult {
  const total = /^\s*(\d+) requests in /m.exec(output);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (!total || !rps) throw new Error(`unexpected wrk output:\n${output}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: Number(total[1]),
    requestsPerSec: Number(rps[1]),
    p50Ms: latencyMs(output, '50'),
    p99Ms: latencyMs(output, '99'),
    non2xx,
    socketErrors,
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  durationSec: number;
  headers?: Record<string, string>;
}

/** Runs wrk in its own process (so the load generator never shares a core's event loop with a candidate). */
export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['--latency', `-t${options.threads}`, `-c${options.connections}`, `-d${options.durationSec}s`, '--timeout', '5s'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(options.url);
  const { stdout } = await run('wrk', args, { timeout: (options.durationSec + 30) * 1000, maxBuffer: 1024 * 1024 });
  return parseWrk(stdout);
}
