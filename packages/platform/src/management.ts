import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installErrorHandling } from './errors.js';
import { openMetricsText, prefersOpenMetrics } from './exposition.js';
import { Registry } from './metrics.js';
import type { Platform } from './platform.js';
import { withZod } from './route-schemas.js';

export interface ManagementOptions {
  /** Extra routes (fault injection) registered by the service or platform. */
  register?: (app: FastifyInstance) => void | Promise<void>;
}

/**
 * The management port: /livez, /readyz and /metrics, never exposed through the Ingress.
 * Keeping them off the public port means a NetworkPolicy can open them to `monitoring` only.
 */
export function createManagementApp(platform: Platform, options: ManagementOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: platform.logger.child({ port: 'management' }) as FastifyBaseLogger,
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
  });
  installErrorHandling(app);
  withZod(app);

  // Liveness: the event loop answers. It must not check dependencies, or a database outage would
  // make the kubelet restart every replica at once.
  app.get('/livez', async () => ({ status: 'alive' }));

  app.get('/readyz', async (_request, reply) => {
    const report = await platform.health.readiness();
    return reply.code(report.status === 'ready' ? 200 : 503).send(report);
  });

  app.get('/metrics', async (request, reply) => {
    // Refresh service_health_check_status on every scrape (the result is cached briefly), so the
    // gauge is current even where nothing else calls /readyz (one machine, a plain Prometheus).
    await platform.health.readiness();
    const { registry } = platform.metrics;
    if (prefersOpenMetrics(request.headers.accept)) return reply.type(Registry.OPENMETRICS_CONTENT_TYPE).send(await openMetricsText(registry));
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  if (options.register)
    void app.register(async function managementRoutes(scope) {
      await options.register?.(scope);
    });
  return app;
}
