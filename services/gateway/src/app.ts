import { existsSync } from 'node:fs';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import {
  activeTraceparent,
  createAccessTokenVerifier,
  createHttpApp,
  createManagementApp,
  installChaos,
  createPlatform,
  remoteKeySource,
  type Platform,
} from '@sre/platform';
import type { Config } from './config.js';
import { apiDocs } from './api-docs.js';
import { gatewayErrors } from './errors.js';
import { proxyScope } from './proxy.js';
import { staticSecurityHeaders } from './security-headers.js';
import { installTokenCheck } from './token-check.js';
import { TokenCache } from './token-cache.js';
import { createUpstream, createUpstreamMetrics, type Upstream } from './upstream.js';

export interface GatewayDeps {
  logDestination?: DestinationStream;
  collectProcessMetrics?: boolean;
  fetchImpl?: typeof fetch;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly management: FastifyInstance;
  readonly platform: Platform;
  readonly upstreams: Readonly<Record<'auth' | 'images', Upstream>>;
  close(): Promise<void>;
}

/** Stricter rate limit (guessing passwords, mass sign-ups). */
const CREDENTIAL_ROUTES = ['/api/auth/login', '/api/auth/register'] as const;

export function buildApp(config: Config, deps: GatewayDeps = {}): Gateway {
  const platform = createPlatform({
    service: 'gateway',
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    ...(deps.collectProcessMetrics === undefined ? {} : { collectProcessMetrics: deps.collectProcessMetrics }),
  });
  const { logger } = platform;
  const app = createHttpApp(platform, { config, trustProxy: config.TRUST_PROXY });

  // --- Access tokens: verified here with Auth's public keys; Auth is never called per request. ---
  const keySource = remoteKeySource({
    jwksUrl: config.JWKS_URL ?? new URL('/.well-known/jwks.json', config.AUTH_URL).toString(),
    logger,
    refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
    unknownKeyCooldownMs: config.JWKS_UNKNOWN_KID_COOLDOWN_MS,
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
  });
  const verifier = createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, keySource });
  const tokenCache = new TokenCache(config.TOKEN_CACHE_MAX_ENTRIES);

  // Readiness is "can verify tokens": keys loaded (or still cached from an earlier load). It does not
  // follow upstream health: with Images down, auth routes must keep working, and failing readiness
  // would take every gateway replica out of the Service at once (docs/local.md, services/gateway/README.md).
  platform.health.addCheck({
    name: 'signing-keys',
    check: async () => {
      if (!keySource.loaded()) await keySource.keys();
    },
  });

  const upstreamMetrics = createUpstreamMetrics(platform.metrics.registry);
  const upstreamDefaults = {
    retries: config.UPSTREAM_RETRIES,
    retryInitialDelayMs: config.UPSTREAM_RETRY_INITIAL_DELAY_MS,
    retryMaxDelayMs: config.UPSTREAM_RETRY_MAX_DELAY_MS,
    breakerConsecutiveFailures: config.BREAKER_CONSECUTIVE_FAILURES,
    breakerHalfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
    metrics: upstreamMetrics,
    logger,
  };
  const upstreams = {
    auth: createUpstream({ name: 'auth', baseUrl: config.AUTH_URL, timeoutMs: config.AUTH_TIMEOUT_MS, ...upstreamDefaults }),
    images: createUpstream({ name: 'images', baseUrl: config.IMAGES_URL, timeoutMs: config.IMAGES_TIMEOUT_MS, ...upstreamDefaults }),
  };

  // --- Per request, one hook: trace context, security headers, CORS (issue 11: every separate
  // async hook and header write showed in the profile under load). ---
  // Trace context is the OpenTelemetry SDK's (docs/tracing.md): it continues the caller's trace and
  // injects our span's traceparent upstream. The client gets it back to find its trace.
  // CSP (our own assets only) and the rest of helmet's set, computed once; HSTS only over TLS.
  const securityHeaders = staticSecurityHeaders();
  const hsts = config.HSTS_MAX_AGE_SEC > 0 ? `max-age=${config.HSTS_MAX_AGE_SEC}; includeSubDomains` : undefined;
  // CORS: off unless origins are configured (the web app is same-origin).
  const corsOrigins = new Set(
    (config.CORS_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  );

  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(securityHeaders);
    const traceparent = activeTraceparent();
    if (traceparent) void reply.header('traceparent', traceparent);
    if (hsts && request.protocol === 'https') void reply.header('strict-transport-security', hsts);

    const origin = corsOrigins.size > 0 ? request.headers.origin : undefined;
    if (typeof origin === 'string' && corsOrigins.has(origin)) {
      void reply
        .header('access-control-allow-origin', origin)
        .header('vary', 'Origin')
        .header('access-control-expose-headers', 'x-request-id, traceparent, retry-after');
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
        void reply
          .code(204)
          .header('access-control-allow-methods', 'GET, HEAD, POST, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type, x-request-id, traceparent, if-none-match')
          .header('access-control-max-age', '600')
          .send();
        return;
      }
    }
    done();
  });

  // --- Rate limits per client IP; stricter on credential routes. ---
  void app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) =>
      gatewayErrors.GATEWAY_RATE_LIMITED(`Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  });

  // After the rate limiter, before the body is read: nothing is proxied without a valid token (token-check.ts).
  installTokenCheck(app, { verifier, tokenCache });

  // --- Proxy routes, one encapsulated scope per upstream (proxy.ts). ---
  const scopeDefaults = { metrics: upstreamMetrics, config };
  void app.register(
    proxyScope({ ...scopeDefaults, upstream: upstreams.auth, prefix: '/api/auth', bodyLimit: config.BODY_LIMIT_BYTES, strictlyLimited: CREDENTIAL_ROUTES }),
  );
  void app.register(
    proxyScope({ ...scopeDefaults, upstream: upstreams.images, prefix: '/api/images', bodyLimit: config.UPLOAD_LIMIT_BYTES, strictlyLimited: [] }),
  );

  // --- The public API's OpenAPI document and reference (api-docs.ts). ---
  void app.register(apiDocs);

  // --- The web app. ---
  const webIndex = join(config.WEB_ROOT, 'index.html');
  if (existsSync(webIndex)) {
    void app.register(fastifyStatic, {
      root: config.WEB_ROOT,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      setHeaders: (res, filePath) => {
        // Vite fingerprints everything under assets/: cache for a year; index.html must revalidate.
        void res.header('cache-control', filePath.includes(`${join(config.WEB_ROOT, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    logger.warn({ webRoot: config.WEB_ROOT }, 'web app not built; run `npm run build -w @sre/web` (npm start does it)');
    app.get('/', async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The web app is not built. Run `npm run build -w @sre/web` or `npm start`.\n'),
    );
  }

  const management = createManagementApp(platform);
  // Opt-in drills (CHAOS_ENABLED=true): readiness, latency, error, CPU and memory faults.
  const chaos = installChaos(platform, app, management, { config });

  let closed: Promise<void> | undefined;
  return {
    app,
    management,
    platform,
    upstreams,
    close: () => {
      closed ??= (async () => {
        chaos.clearAll('shutting down');
        verifier.close();
        for (const u of Object.values(upstreams)) u.dispose();
        await app.close();
        await management.close();
      })();
      return closed;
    },
  };
}
