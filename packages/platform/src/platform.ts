import type { DestinationStream } from 'pino';
import type { BaseConfig } from './config.js';
import { HealthRegistry } from './health.js';
import { createLogger, type Logger } from './logging.js';
import { createMetrics, type PlatformMetrics } from './metrics.js';

/** What every service gets from the platform: one logger, one metrics registry, one health registry. */
export interface Platform {
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics;
  readonly health: HealthRegistry;
}

export interface PlatformOptions {
  service: string;
  config: Pick<BaseConfig, 'LOG_LEVEL' | 'READINESS_CACHE_MS' | 'READINESS_CHECK_TIMEOUT_MS'>;
  logDestination?: DestinationStream;
  /** Tests that build many apps in one process turn off process metrics collection. */
  collectProcessMetrics?: boolean;
}

export function createPlatform(options: PlatformOptions): Platform {
  const metrics = createMetrics({ collectProcessMetrics: options.collectProcessMetrics ?? true });
  return {
    service: options.service,
    logger: createLogger({ service: options.service, level: options.config.LOG_LEVEL, destination: options.logDestination }),
    metrics,
    health: new HealthRegistry({
      metrics,
      cacheMs: options.config.READINESS_CACHE_MS,
      checkTimeoutMs: options.config.READINESS_CHECK_TIMEOUT_MS,
    }),
  };
}
