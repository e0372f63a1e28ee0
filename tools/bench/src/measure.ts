import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { DriverOptions, DriverResult } from './upload-driver.js';

/** Helpers the uploads suite shares with any suite that drives load from a child process. */

export const DRIVER = fileURLToPath(new URL('./upload-driver.ts', import.meta.url));

/** The q-quantile (0–1) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs the upload driver in its own Node process and returns what it measured. */
export async function runDriver(options: DriverOptions): Promise<DriverResult> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', DRIVER, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // Bounded: the driver stops at its deadline; this only catches a hung child.
  const killer = setTimeout(() => child.kill('SIGKILL'), options.warmupMs + 3 * options.durationMs + 180_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  if (code !== 0) throw new Error(`upload driver exited with ${code}: ${stderr.trim().slice(-2000)}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as DriverResult;
}

/** GETs `url` every `intervalMs` until `until` settles; the latency of each answer in ms. */
export async function probeWhile(url: string, until: Promise<unknown>, intervalMs = 25): Promise<{ latenciesMs: number[]; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  const latenciesMs: number[] = [];
  let failures = 0;
  const once = () =>
    new Promise<number>((resolve) => {
      const req = get(url, { agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(-1));
    });
  // Bounded by `until` (itself bounded) and by a hard cap on the number of probes.
  for (let i = 0; i < 100_000 && !done; i++) {
    const started = performance.now();
    const status = await once();
    if (status === 200) latenciesMs.push(performance.now() - started);
    else failures++;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  agent.destroy();
  return { latenciesMs, failures };
}

/** Polls `url` until it answers 200, or fails after `timeoutMs`. */
export async function waitFor(url: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
