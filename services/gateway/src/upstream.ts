import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Counter, Gauge, Histogram, type Logger, type Platform, type Registry } from '@sre/platform';
import type { Config } from './config.js';
import { gatewayErrors } from './errors.js';

/**
 * Resilience per upstream (cockatiel): a circuit breaker each, so a dead upstream answers 503 at
 * once instead of every request waiting on it, and retries with exponential back-off for
 * idempotent requests only. Timeouts are enforced by the HTTP client (undici's headers timeout),
 * which aborts the upstream request itself; a policy-level timeout would answer the client but
 * leave the upstream request running.
 */

/** Why an upstream attempt failed at the transport level (no usable response). */
export type FailureKind = 'unavailable' | 'timeout';

export class UpstreamFailure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamFailure';
    this.kind = kind;
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'FST_REPLY_FROM_HTTP_REQUEST_TIMEOUT']);

/** Classifies a proxy error by walking its cause chain (reply-from wraps undici's errors). */
export function classifyTransportError(err: unknown): UpstreamFailure {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return new UpstreamFailure('timeout', `upstream timed out (${codes.join(' < ')})`, { cause: err });
  return new UpstreamFailure('unavailable', `upstream unreachable (${codes.join(' < ') || (err instanceof Error ? err.message : 'unknown')})`, { cause: err });
}

export interface UpstreamMetrics {
  readonly requests: Counter<'upstream' | 'status_code'>;
  readonly duration: Histogram<'upstream'>;
  readonly circuitState: Gauge<'upstream'>;
}

export function createUpstreamMetrics(registry: Registry): UpstreamMetrics {
  return {
    requests: new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Requests sent to upstreams (each retry attempt counts), by upstream status code; "error"/"timeout" when no response came.',
      labelNames: ['upstream', 'status_code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'gateway_upstream_duration_seconds',
      help: 'Time from sending a request to an upstream until its response headers (or the failure), seconds.',
      labelNames: ['upstream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    circuitState: new Gauge({
      name: 'gateway_circuit_state',
      help: 'Circuit breaker state per upstream: 0 closed, 1 open, 2 half-open, 3 isolated.',
      labelNames: ['upstream'],
      registers: [registry],
    }),
  };
}

export interface UpstreamOptions {
  name: string;
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  breakerConsecutiveFailures: number;
  breakerHalfOpenAfterMs: number;
  metrics: UpstreamMetrics;
  logger: Logger;
}

export interface Upstream {
  readonly name: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /**
   * Runs one logical request: `attempt` resolves once response headers arrived and rejects with an
   * UpstreamFailure when none did. Retried only when `idempotent`. Throws catalogued gateway errors.
   */
  run(idempotent: boolean, attempt: () => Promise<void>): Promise<void>;
  state(): CircuitState;
  dispose(): void;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const { name, metrics, logger } = options;
  const breaker = circuitBreaker(
    handleWhen((err) => err instanceof UpstreamFailure),
    { halfOpenAfter: options.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakerConsecutiveFailures) },
  );
  metrics.circuitState.set({ upstream: name }, CircuitState.Closed);
  const stateListener = breaker.onStateChange((state) => {
    metrics.circuitState.set({ upstream: name }, state);
    const label = ['closed', 'open', 'half-open', 'isolated'][state] ?? String(state);
    (state === CircuitState.Open ? logger.warn.bind(logger) : logger.info.bind(logger))({ upstream: name, circuit: label }, `circuit ${label}`);
  });
  // Only connection-level failures are retried: the request never reached the upstream's handler,
  // or it is idempotent anyway. A timeout is not retried (it would multiply the wait).
  const retryPolicy = retry(
    handleWhen((err) => retryable(err)),
    {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({ initialDelay: options.retryInitialDelayMs, maxDelay: options.retryMaxDelayMs }),
    },
  );
  const retryable = (err: unknown) => err instanceof UpstreamFailure && err.kind === 'unavailable';

  /**
   * The same as cockatiel's wrap(retry, breaker) — attempts through the breaker, retried with
   * back-off — but the first attempt goes straight to the breaker: the retry policy (its executor,
   * events and back-off state per call) costs every request, while almost none fail (issue 11). On
   * a retryable first failure the retry policy takes over, seeing that failure as its own first
   * attempt, so attempts and delays are what wrap() would give.
   */
  async function executeIdempotent(attempt: () => Promise<void>): Promise<void> {
    let firstFailure: unknown;
    try {
      await breaker.execute(attempt);
      return;
    } catch (err) {
      if (options.retries === 0 || !retryable(err)) throw err;
      firstFailure = err;
    }
    let first = true;
    await retryPolicy.execute(() => {
      if (first) {
        first = false;
        return Promise.reject(firstFailure);
      }
      return breaker.execute(attempt);
    });
  }

  return {
    name,
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    state: () => breaker.state,
    dispose: () => stateListener.dispose(),
    async run(idempotent, attempt) {
      try {
        await (idempotent ? executeIdempotent(attempt) : breaker.execute(attempt));
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          throw gatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE(`The ${name} service is temporarily unavailable; retry shortly.`, {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(options.breakerHalfOpenAfterMs / 1000))) },
          });
        }
        if (err instanceof UpstreamFailure) {
          logger.warn({ upstream: name, reason: err.message }, 'upstream request failed');
          throw err.kind === 'timeout'
            ? gatewayErrors.GATEWAY_UPSTREAM_TIMEOUT(`The ${name} service took too long to answer.`)
            : gatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE(`The ${name} service is temporarily unavailable; retry shortly.`, { headers: { 'retry-after': '1' } });
        }
        throw err;
      }
    },
  };
}

export type UpstreamName = 'auth' | 'images';

/** The gateway's two upstreams, configured from the environment, and their shared metrics. */
export function createUpstreams(config: Config, platform: Platform): { upstreams: Readonly<Record<UpstreamName, Upstream>>; metrics: UpstreamMetrics } {
  const metrics = createUpstreamMetrics(platform.metrics.registry);
  const defaults = {
    retries: config.UPSTREAM_RETRIES,
    retryInitialDelayMs: config.UPSTREAM_RETRY_INITIAL_DELAY_MS,
    retryMaxDelayMs: config.UPSTREAM_RETRY_MAX_DELAY_MS,
    breakerConsecutiveFailures: config.BREAKER_CONSECUTIVE_FAILURES,
    breakerHalfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
    metrics,
    logger: platform.logger,
  };
  return {
    metrics,
    upstreams: {
      auth: createUpstream({ name: 'auth', baseUrl: config.AUTH_URL, timeoutMs: config.AUTH_TIMEOUT_MS, ...defaults }),
      images: createUpstream({ name: 'images', baseUrl: config.IMAGES_URL, timeoutMs: config.IMAGES_TIMEOUT_MS, ...defaults }),
    },
  };
}
