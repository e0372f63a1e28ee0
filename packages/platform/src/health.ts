import type { PlatformMetrics } from './metrics.js';

/**
 * Readiness: can this instance serve now? Each dependency check runs with a timeout; results are
 * cached briefly so kubelet probes and Prometheus scrapes do not multiply load on a database.
 * Liveness is deliberately not here: it never looks at dependencies (see docs/architecture.md).
 */

export interface ReadinessCheck {
  readonly name: string;
  /** Resolve when healthy; reject (or time out) when not. Honour `signal` where possible. */
  readonly check: (signal: AbortSignal) => Promise<unknown>;
}

export interface CheckResult {
  ok: boolean;
  durationMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'draining';
  checks: Record<string, CheckResult>;
}

export interface HealthOptions {
  metrics: PlatformMetrics;
  cacheMs: number;
  checkTimeoutMs: number;
  now?: () => number;
}

export class HealthRegistry {
  readonly #checks: ReadinessCheck[] = [];
  readonly #options: HealthOptions;
  #draining = false;
  #cached: { at: number; report: ReadinessReport } | undefined;
  #inFlight: Promise<ReadinessReport> | undefined;
  readonly #overrides = new Map<string, string>();

  constructor(options: HealthOptions) {
    this.#options = options;
  }

  addCheck(check: ReadinessCheck): void {
    this.#checks.push(check);
    this.#options.metrics.healthCheckStatus.set({ check: check.name }, 0);
    this.#cached = undefined;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Readiness fails from now on; called first thing on SIGTERM. */
  startDraining(): void {
    this.#draining = true;
    this.#cached = undefined;
  }

  /** Forces a named check to fail with `reason` (fault injection), or clears it with undefined. */
  setOverride(name: string, reason: string | undefined): void {
    if (reason === undefined) this.#overrides.delete(name);
    else this.#overrides.set(name, reason);
    this.#cached = undefined;
  }

  async readiness(): Promise<ReadinessReport> {
    const now = this.#options.now ?? Date.now;
    if (this.#cached && now() - this.#cached.at < this.#options.cacheMs) return this.#withDraining(this.#cached.report);
    // Concurrent probes share one round of checks.
    this.#inFlight ??= this.#runChecks().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#withDraining(await this.#inFlight);
  }

  #withDraining(report: ReadinessReport): ReadinessReport {
    return this.#draining ? { ...report, status: 'draining' } : report;
  }

  async #runChecks(): Promise<ReadinessReport> {
    const now = this.#options.now ?? Date.now;
    const all = [...this.#checks];
    for (const name of this.#overrides.keys()) {
      if (!all.some((c) => c.name === name)) all.push({ name, check: async () => undefined });
    }
    const entries = await Promise.all(all.map(async (c) => [c.name, await this.#runOne(c)] as const));
    const checks = Object.fromEntries(entries);
    for (const [name, result] of entries) this.#options.metrics.healthCheckStatus.set({ check: name }, result.ok ? 1 : 0);
    const report: ReadinessReport = { status: entries.every(([, r]) => r.ok) ? 'ready' : 'not_ready', checks };
    this.#cached = { at: now(), report };
    return report;
  }

  async #runOne(c: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    const override = this.#overrides.get(c.name);
    if (override !== undefined) return { ok: false, durationMs: 0, error: override };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.check(controller.signal),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new Error(`timed out after ${this.#options.checkTimeoutMs} ms`));
          }, this.#options.checkTimeoutMs);
        }),
      ]);
      return { ok: true, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      return { ok: false, durationMs: Math.round(performance.now() - started), error: describe(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A short reason for the readiness body: the message only, never a stack or connection string. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  return message.replace(/\b\w+:\/\/[^\s]+/g, '[url]').slice(0, 200);
}
