import type { FastifyInstance } from 'fastify';
import type { BaseConfig } from './config.js';
import type { Platform } from './platform.js';
import { createShutdown, type ShutdownStep } from './shutdown.js';

export interface StartServiceOptions {
  platform: Platform;
  config: Pick<BaseConfig, 'HOST' | 'PORT' | 'MANAGEMENT_PORT' | 'DRAIN_DELAY_MS' | 'SHUTDOWN_TIMEOUT_MS'>;
  app: FastifyInstance;
  management: FastifyInstance;
  /** Closed after the public listener, in order (database pools, storage clients, timers). */
  resources?: readonly ShutdownStep[];
}

export interface RunningService {
  readonly publicUrl: string;
  readonly managementUrl: string;
  readonly shutdown: (reason: string) => Promise<void>;
}

/**
 * The only place that listens and installs signal handlers; main.ts calls it after building the app.
 * The management port opens first so probes answer (not ready) while the service warms up.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { platform, config, app, management } = options;
  // Not ready until the public port accepts connections: app.listen first loads every plugin, which
  // takes seconds on a busy machine, and a caller trusting /readyz meanwhile got "connection refused"
  // (issue 15 item 10: the launcher reported ready, the first request failed).
  let publicListening = false;
  platform.health.addCheck({
    name: 'listener',
    check: async () => {
      if (!publicListening) throw new Error('the public port is not listening yet');
    },
  });
  const managementUrl = await management.listen({ host: config.HOST, port: config.MANAGEMENT_PORT });
  const publicUrl = await app.listen({ host: config.HOST, port: config.PORT });
  publicListening = true;
  const shutdown = createShutdown({
    platform,
    drainDelayMs: config.DRAIN_DELAY_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    steps: [
      // fastify's close stops accepting, lets in-flight requests finish, then resolves.
      { name: 'public listener', run: () => app.close() },
      ...(options.resources ?? []),
      { name: 'management listener', run: () => management.close() },
    ],
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void shutdown(signal));
  }
  process.on('unhandledRejection', (err) => platform.logger.error({ err }, 'unhandled rejection'));
  platform.logger.info({ publicUrl, managementUrl }, 'service started');
  return { publicUrl, managementUrl, shutdown };
}
