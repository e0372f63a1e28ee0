import { Client, StepFailed } from './client.js';
import { runFlow, SessionPool } from './flows.js';
import type { FlowName, LoadOptions } from './options.js';
import { LoadStats, type Summary } from './stats.js';

/** After the last start, running flows get this long to finish; then they are counted as abandoned. */
const GRACE_MS = 30_000;

export interface RunHooks {
  /** Called about once a second with the live counters (the progress line). */
  onTick?: (stats: LoadStats, elapsedMs: number) => void;
  signal?: AbortSignal;
}

function pickFlow(mix: Record<FlowName, number>): FlowName {
  const total = mix.signup + mix.browse;
  return Math.random() * total < mix.signup ? 'signup' : 'browse';
}

/**
 * Open model: the n-th flow starts at n / rate seconds after the start, whatever happened to the
 * earlier ones, so a slow server raises latency and in-flight counts instead of quietly lowering the
 * load. When --max-in-flight flows are running, a due start is dropped and counted. Bounded by the
 * duration, by --max-flows, and by a grace period for the flows still running at the end.
 */
export async function runLoad(options: LoadOptions, hooks: RunHooks = {}): Promise<Summary> {
  const stats = new LoadStats();
  const client = new Client(options.target, stats);
  const pool = new SessionPool();
  const running = new Set<Promise<void>>();
  const intervalMs = 1000 / options.ratePerSec;
  const started = performance.now();
  let arrivals = 0;
  const tick = setInterval(() => hooks.onTick?.(stats, performance.now() - started), 1000);
  try {
    while (arrivals < options.maxFlows && !hooks.signal?.aborted) {
      // Compared as an offset: (started + offset) - started can come out just below the offset in floating
      // point, which let one arrival too many in (CI run 13: 16 arrivals for 5/s over 3 s).
      const offsetMs = arrivals * intervalMs;
      if (offsetMs >= options.durationMs) break;
      const due = started + offsetMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      arrivals++;
      if (running.size >= options.maxInFlight) {
        stats.droppedStarts++;
        continue;
      }
      stats.flowsStarted++;
      const flow = runFlow(pickFlow(options.mix), client, pool).then(
        () => {
          stats.flowsCompleted++;
        },
        (err: unknown) => {
          stats.flowsFailed++;
          if (!(err instanceof StepFailed))
            stats.errorClasses[`internal ${(err as Error).message}`] = (stats.errorClasses[`internal ${(err as Error).message}`] ?? 0) + 1;
        },
      );
      running.add(flow);
      void flow.finally(() => running.delete(flow));
    }
    const startWindowMs = performance.now() - started;
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), GRACE_MS).unref());
    if ((await Promise.race([Promise.all(running).then(() => 'done' as const), grace])) === 'timeout') stats.abandoned = running.size;
    return stats.summary(performance.now() - started, startWindowMs);
  } finally {
    clearInterval(tick);
  }
}
