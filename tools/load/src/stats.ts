/** Latencies per step and outcomes per error class, bounded in memory (a reservoir per step). */

const RESERVOIR = 20_000;

export interface StepSummary {
  step: string;
  count: number;
  ok: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Summary {
  flowsStarted: number;
  flowsCompleted: number;
  flowsFailed: number;
  /** Starts skipped because --max-in-flight flows were already running (the server fell behind). */
  droppedStarts: number;
  /** Flows still running when the grace period ended (abandoned, not counted as completed). */
  abandoned: number;
  elapsedSec: number;
  /** Arrivals (started + dropped) per second over the start window: holds even when the server is slow. */
  achievedRatePerSec: number;
  steps: StepSummary[];
  /** e.g. `http 429 GATEWAY_RATE_LIMITED`, `network ECONNREFUSED`, `timeout`. */
  errorClasses: Record<string, number>;
}

class StepStats {
  count = 0;
  ok = 0;
  max = 0;
  readonly samples: number[] = [];
  add(ms: number, ok: boolean): void {
    this.count++;
    if (ok) this.ok++;
    this.max = Math.max(this.max, ms);
    if (this.samples.length < RESERVOIR) this.samples.push(ms);
    else {
      // Reservoir sampling keeps a uniform sample of every latency seen, in bounded memory.
      const i = Math.floor(Math.random() * this.count);
      if (i < RESERVOIR) this.samples[i] = ms;
    }
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export class LoadStats {
  readonly #steps = new Map<string, StepStats>();
  readonly errorClasses: Record<string, number> = {};
  flowsStarted = 0;
  flowsCompleted = 0;
  flowsFailed = 0;
  droppedStarts = 0;
  abandoned = 0;

  record(step: string, ms: number, errorClass?: string): void {
    let stats = this.#steps.get(step);
    if (!stats) this.#steps.set(step, (stats = new StepStats()));
    stats.add(ms, errorClass === undefined);
    if (errorClass !== undefined) this.errorClasses[errorClass] = (this.errorClasses[errorClass] ?? 0) + 1;
  }

  /** `startWindowMs`: how long flows were being started (the arrival rate is over that window). */
  summary(elapsedMs: number, startWindowMs: number): Summary {
    const steps = [...this.#steps].map(([step, s]) => {
      const sorted = [...s.samples].sort((a, b) => a - b);
      return {
        step,
        count: s.count,
        ok: s.ok,
        errors: s.count - s.ok,
        p50Ms: round1(percentile(sorted, 50)),
        p90Ms: round1(percentile(sorted, 90)),
        p99Ms: round1(percentile(sorted, 99)),
        maxMs: round1(s.max),
      };
    });
    return {
      flowsStarted: this.flowsStarted,
      flowsCompleted: this.flowsCompleted,
      flowsFailed: this.flowsFailed,
      droppedStarts: this.droppedStarts,
      abandoned: this.abandoned,
      elapsedSec: round1(elapsedMs / 1000),
      achievedRatePerSec: round1((this.flowsStarted + this.droppedStarts) / Math.max(0.001, startWindowMs / 1000)),
      steps,
      errorClasses: { ...this.errorClasses },
    };
  }
}
