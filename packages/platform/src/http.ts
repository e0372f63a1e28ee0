import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { BaseConfig, TrustProxy } from './config.js';
import { errorBody, errors, fromFrameworkError, installErrorHandling, type ErrorClassifier } from './errors.js';
import { requestIdFrom, traceIdFrom } from './logging.js';
import { activeTraceIds } from './tracing/active.js';
import { FRAMEWORK_ERROR_HEADERS, answerClientError, answerUnsupportedExpectation } from './raw-errors.js';
import type { Platform } from './platform.js';
import { registerOpenApi, type OpenApiInfo } from './openapi.js';
import { withZod } from './route-schemas.js';

export interface HttpAppOptions {
  config: Pick<BaseConfig, 'BODY_LIMIT_BYTES' | 'REQUEST_TIMEOUT_MS'>;
  /** Turns service-specific infrastructure errors into catalogued ones (e.g. database down → 503). */
  classifyError?: ErrorClassifier;
  /** Longest accepted request target (path + query), in bytes. */
  maxUrlLength?: number;
  /** Largest accepted header block; Node answers 431 beyond it. */
  maxHeaderBytes?: number;
  /** Whose X-Forwarded-* to believe: the service's TRUST_PROXY (config.ts); default nobody. */
  trustProxy?: TrustProxy;
  /** Collect an OpenAPI 3.1 document from the route schemas (`app.swagger()`; tools/openapi writes it). */
  openapi?: OpenApiInfo;
}

/**
 * Fastify 5.12 treats a numeric `trustProxy` as "trust nobody" (it cannot check the peer's address),
 * so a hop count becomes a trust function here. TRUST_PROXY documents the condition that makes it
 * safe: only the proxies can reach the port (NetworkPolicy); see docs/configuration.md#trusted-proxies-trust_proxy.
 */
function fastifyTrustProxy(trust: TrustProxy | undefined): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust ?? false;
}

/**
 * Node's HTTP server with the limits every public port needs: the header block size (431 beyond
 * it), the time to receive a whole request (408 for slow clients, the slow-loris guard), and
 * keep-alive longer than a load balancer's usual 60 s idle timeout so it never reuses a socket we
 * are closing.
 */
function createNodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void, requestTimeoutMs: number, maxHeaderBytes: number) {
  const server = createServer(
    {
      maxHeaderSize: maxHeaderBytes,
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      keepAliveTimeout: 72_000,
      // How often Node looks for requests past their timeout (default 30 s would let them overrun).
      connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
    },
    handler,
  );
  server.on('checkExpectation', answerUnsupportedExpectation);
  return server;
}

/**
 * The public HTTP app of a service, with the platform's cross-cutting behaviour installed:
 * request ids, trace-aware logging, HTTP metrics by route template, size limits, one error shape,
 * and "Connection: close" while draining so keep-alive clients move to another pod.
 */
export function createHttpApp(platform: Platform, options: HttpAppOptions): FastifyInstance {
  const maxUrlLength = options.maxUrlLength ?? 4096;
  const { httpRequestsTotal, httpRequestDuration } = platform.metrics;
  const record = (request: FastifyRequest, statusCode: number, elapsedMs: number) => {
    const labels = {
      service: platform.service,
      method: request.method,
      // The template, never the raw URL: ids in paths would explode the series count.
      route: request.routeOptions?.url ?? 'unmatched',
      status_code: String(statusCode),
    };
    httpRequestsTotal.inc(labels);
    const ids = activeTraceIds();
    // prom-client's types tie exemplar label names to the metric's own; OpenMetrics does not.
    const exemplarLabels = (ids ? { trace_id: ids.trace_id } : {}) as Partial<typeof labels>;
    httpRequestDuration.observe({ labels, value: elapsedMs / 1000, exemplarLabels });
    request.log.info({ method: request.method, route: labels.route, statusCode, durationMs: Math.round(elapsedMs), clientIp: request.ip }, 'request completed');
  };

  const app = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    genReqId: requestIdFrom,
    // We log one line per request ourselves (onResponse), with the route template.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: options.config.BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 200 },
    // The router's own 400 (FST_ERR_BAD_URL) and 414 (FST_ERR_MAX_PARAM_LENGTH) answers run no hook and
    // no error handler: give them the one error shape, the request id, security headers and a metric.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const e = fromFrameworkError(err);
      request.log.info({ code: e.code, reason: err.message }, 'request rejected');
      record(request, e.statusCode, 0);
      void reply
        .code(e.statusCode)
        .headers({ ...FRAMEWORK_ERROR_HEADERS, 'x-request-id': request.id })
        .send(errorBody(e.code, e.message, request.id));
    },
    trustProxy: fastifyTrustProxy(options.trustProxy),
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Fastify applies its timeout options only to servers it creates itself, so the factory sets them.
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createNodeServer(handler, options.config.REQUEST_TIMEOUT_MS, options.maxHeaderBytes ?? 16 * 1024),
    childLoggerFactory(logger, bindings, childOptions, rawReq) {
      // With tracing on, the mixin in createLogger writes the active span's ids. With it off, the
      // caller's traceparent still ties this service's lines to the caller's trace.
      if (activeTraceIds()) return logger.child(bindings, childOptions);
      const traceId = traceIdFrom((rawReq as IncomingMessage).headers.traceparent);
      return logger.child(traceId ? { ...bindings, trace_id: traceId } : bindings, childOptions);
    },
  }) as unknown as FastifyInstance;

  installErrorHandling(app, options.classifyError);
  // Route schemas are zod (route-schemas.ts); the OpenAPI document is collected from them.
  withZod(app);
  if (options.openapi) registerOpenApi(app, options.openapi);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if ((request.raw.url ?? '').length > maxUrlLength) {
      const e = errors.URI_TOO_LONG();
      return reply.code(e.statusCode).send(errorBody(e.code, e.message, request.id));
    }
    return undefined;
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (platform.health.draining) void reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    record(request, reply.statusCode, reply.elapsedTime);
  });

  return app;
}
