import type { LoadStats } from './stats.js';

/** One step's HTTP call, timed and classified; throws StepFailed so a flow stops at its first failure. */
export class StepFailed extends Error {
  constructor(readonly errorClass: string) {
    super(errorClass);
  }
}

export interface StepResult {
  status: number;
  body: unknown;
}

const STEP_TIMEOUT_MS = 30_000;

export class Client {
  constructor(
    private readonly base: URL,
    private readonly stats: LoadStats,
  ) {}

  async step(step: string, method: string, path: string, options: { token?: string; json?: unknown; form?: FormData; expect: number }): Promise<StepResult> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) body = options.form;
    const started = performance.now();
    try {
      const res = await fetch(new URL(path, this.base), { method, headers, body, signal: AbortSignal.timeout(STEP_TIMEOUT_MS), redirect: 'manual' });
      const raw = Buffer.from(await res.arrayBuffer());
      const ms = performance.now() - started;
      let parsed: unknown;
      if ((res.headers.get('content-type') ?? '').includes('json') && raw.length > 0) {
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          parsed = undefined;
        }
      }
      if (res.status !== options.expect) {
        const code = (parsed as { error?: { code?: string } } | undefined)?.error?.code;
        const errorClass = `http ${res.status}${code ? ` ${code}` : ''}`;
        this.stats.record(step, ms, errorClass);
        throw new StepFailed(errorClass);
      }
      this.stats.record(step, ms);
      return { status: res.status, body: parsed };
    } catch (err) {
      if (err instanceof StepFailed) throw err;
      const ms = performance.now() - started;
      const name = (err as Error).name;
      const code = ((err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code) || name;
      const errorClass = name === 'TimeoutError' ? 'timeout' : `network ${code}`;
      this.stats.record(step, ms, errorClass);
      throw new StepFailed(errorClass);
    }
  }
}
