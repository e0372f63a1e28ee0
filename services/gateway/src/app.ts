import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import replyFrom from '@fastify/reply-from';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import type {
  AppError} from '@sre/platform';
import {
  bearerToken,
  createAccessTokenVerifier,
  createHttpApp,
  createManagementApp,
  installChaos,
  createPlatform,
  errors,
  remoteKeySource,
  traceIdFrom,
  type AccessTokenClaims,
  type Platform,
} from '@sre/platform';
import type { Config } from './config.js';
import { gatewayErrors } from './errors.js';
import { nonCanonicalPathReason, pathOf } from './paths.js';
import { TokenCache } from './token-cache.js';
import { classifyTransportError, createUpstream, createUpstreamMetrics, type Upstream } from './upstream.js';

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

declare module 'fastify' {
  interface FastifyRequest {
    /** The W3C traceparent sent upstream (and returned to the client) for this request. */
    outgoingTraceparent: string;
    accessToken?: AccessTokenClaims;
  }
}

/** Auth routes reachable without a token (method + path after /api/auth). Everything else needs one. */
const PUBLIC_AUTH_ROUTES = new Set([
  'POST /register',
  'POST /login',
  'POST /refresh',
  'POST /logout',
  'GET /.well-known/jwks.json',
  'HEAD /.well-known/jwks.json',
]);

/** Stricter rate limit (guessing passwords, mass sign-ups). */
const CREDENTIAL_ROUTES = ['/api/auth/login', '/api/auth/register'] as const;

const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    // blob: is the app's own image data (fetched with the bearer token, shown through object URLs).
    'img-src': ["'self'", 'blob:'],
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  },
};

/** A W3C traceparent for the gateway's hop: the caller's trace id when valid, else a new trace. */
export function nextTraceparent(incoming: string | string[] | undefined): string {
  const traceId = traceIdFrom(incoming);
  const flags = traceId && typeof incoming === 'string' ? incoming.trim().slice(-2) : '01';
  return `00-${traceId ?? randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${flags}`;
}

/** Fails the stream once more than `limit` bytes passed: uploads are never buffered, only counted. */
class ByteLimit extends Transform {
  #seen = 0;
  exceeded = false;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null, data?: Buffer) => void): void {
    this.#seen += chunk.length;
    if (this.#seen > this.limit) {
      this.exceeded = true;
      callback(new Error('request body exceeds the gateway limit'));
      return;
    }
    callback(null, chunk);
  }
}

export function buildApp(config: Config, deps: GatewayDeps = {}): Gateway {
  const platform = createPlatform({
    service: 'gateway',
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    ...(deps.collectProcessMetrics === undefined ? {} : { collectProcessMetrics: deps.collectProcessMetrics }),
  });
  const { logger } = platform;
  const app = createHttpApp(platform, { config, trustProxy: config.TRUST_PROXY as boolean | string });

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

  // --- Security headers (CSP: our own assets only; HSTS only when the client came over TLS). ---
  void app.register(helmet, {
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.protocol === 'https' && config.HSTS_MAX_AGE_SEC > 0) {
      void reply.header('strict-transport-security', `max-age=${config.HSTS_MAX_AGE_SEC}; includeSubDomains`);
    }
    return payload;
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

  // --- CORS: off unless origins are configured (the web app is same-origin). ---
  const corsOrigins = new Set((config.CORS_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean));

  // --- Per request: trace context, CORS, token check before anything is proxied. ---
  app.addHook('onRequest', async (request, reply) => {
    request.outgoingTraceparent = nextTraceparent(request.headers.traceparent);
    void reply.header('traceparent', request.outgoingTraceparent);
    if (!traceIdFrom(request.headers.traceparent)) {
      request.log = request.log.child({ traceId: request.outgoingTraceparent.split('-')[1] });
    }

    const origin = request.headers.origin;
    if (corsOrigins.size > 0 && typeof origin === 'string' && corsOrigins.has(origin)) {
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'x-request-id, traceparent, retry-after');
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
        return reply
          .code(204)
          .header('access-control-allow-methods', 'GET, HEAD, POST, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type, x-request-id, traceparent, if-none-match')
          .header('access-control-max-age', '600')
          .send();
      }
    }

    return undefined;
  });

  // After the rate limiter (a route-level onRequest hook), before the body is read: nothing is
  // proxied without a valid token.
  app.addHook('preParsing', async (request, _reply, payload) => {
    await checkAccessToken(request);
    // Canonical paths only (paths.ts): a variant such as /api/auth//register matched a route with a
    // looser limit than the path the upstream serves, so it is refused here, before it is proxied.
    // After the token check, so an anonymous caller learns nothing new; counted by the global limit.
    const reason = nonCanonicalPathReason(pathOf(request.raw.url));
    if (reason) throw gatewayErrors.GATEWAY_NON_CANONICAL_PATH(`The request path contains ${reason}; send the canonical path.`);
    return payload;
  });

  async function checkAccessToken(request: FastifyRequest): Promise<void> {
    const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith('/api/')) return;
    if (path.startsWith('/api/auth/') && PUBLIC_AUTH_ROUTES.has(`${request.method} ${path.slice('/api/auth'.length)}`)) return;
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized('An access token is required (Authorization: Bearer <token>).', 'missing');
    const cached = tokenCache.get(token);
    if (cached) {
      request.accessToken = cached;
      return;
    }
    try {
      const claims = await verifier.verify(token);
      tokenCache.set(token, claims);
      request.accessToken = claims;
    } catch (err) {
      const reason = (err as { reason?: string }).reason;
      if (reason === 'keys_unavailable') {
        throw gatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE('Sign-in keys are not available yet; retry shortly.', { headers: { 'retry-after': '1' } });
      }
      throw unauthorized(reason === 'expired' ? 'The access token has expired.' : 'The access token is invalid.', reason ?? 'invalid');
    }
  }

  function unauthorized(message: string, reason: string): AppError {
    // RFC 6750 §3: tell clients which scheme to use and whether the token was the problem.
    const challenge = reason === 'missing' ? 'Bearer' : `Bearer error="invalid_token", error_description="${message.replace(/"/g, '')}"`;
    return gatewayErrors.GATEWAY_UNAUTHORIZED(message, { headers: { 'www-authenticate': challenge } });
  }

  // --- Proxy routes, one encapsulated scope per upstream. Bodies pass through as streams. ---
  const forwardedHeaders = (request: FastifyRequest, headers: Record<string, string | string[] | undefined>) => {
    const out: Record<string, string | string[] | undefined> = { ...headers };
    out['x-request-id'] = request.id;
    out.traceparent = request.outgoingTraceparent;
    delete out.tracestate;
    // The client address as we determined it; a client-supplied X-Forwarded-For is replaced unless
    // it came through a trusted proxy (TRUST_PROXY), so upstreams can throttle by the real IP.
    out['x-forwarded-for'] = request.ips && request.ips.length > 1 ? [...request.ips].reverse().join(', ') : request.ip;
    out['x-forwarded-proto'] = request.protocol;
    out['x-forwarded-host'] = request.host;
    return out;
  };

  function proxyScope(upstream: Upstream, prefix: string, bodyLimit: number, strictlyLimited: readonly string[]) {
    return async (scope: FastifyInstance) => {
      await scope.register(replyFrom, {
        undici: { connectTimeout: config.UPSTREAM_CONNECT_TIMEOUT_MS, connections: 128, keepAliveTimeout: 4000 },
        disableRequestLogging: true,
      });
      // No parsing here: every body is streamed to the upstream as it arrives, with a byte cap.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (request, payload, done) => {
        const limiter = new ByteLimit(bodyLimit);
        (request as FastifyRequest & { bodyLimiter?: ByteLimit }).bodyLimiter = limiter;
        payload.on('error', (err) => limiter.destroy(err));
        done(null, (payload as Readable).pipe(limiter));
      });
      // After the token check (app-level preParsing runs first): refuse a declared oversize body
      // before reading any of it.
      scope.addHook('preParsing', async (request, _reply, payload) => {
        const declared = Number(request.headers['content-length'] ?? 0);
        if (declared > bodyLimit) throw gatewayErrors.GATEWAY_PAYLOAD_TOO_LARGE(`The request body is larger than ${bodyLimit} bytes.`);
        return payload;
      });

      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const rawPath = (request.raw.url ?? '/').split('?')[0] ?? '/';
        const rest = rawPath.slice(prefix.length) || '/';
        let decoded: string;
        try {
          decoded = decodeURIComponent(rest);
        } catch {
          throw errors.VALIDATION_FAILED('The request path is not valid.');
        }
        if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) throw errors.VALIDATION_FAILED('The request path is not valid.');
        const source = new URL(rest.replace(/^\/+/, ''), upstream.baseUrl.endsWith('/') ? upstream.baseUrl : `${upstream.baseUrl}/`).toString();
        const idempotent = request.method === 'GET' || request.method === 'HEAD';
        const limiter = (request as FastifyRequest & { bodyLimiter?: ByteLimit }).bodyLimiter;

        await upstream.run(idempotent, () =>
          new Promise<void>((resolve, reject) => {
            const started = performance.now();
            const done = (statusCode: string) => {
              upstreamMetrics.requests.inc({ upstream: upstream.name, status_code: statusCode });
              upstreamMetrics.duration.observe({ upstream: upstream.name }, (performance.now() - started) / 1000);
            };
            reply.from(source, {
              timeout: upstream.timeoutMs,
              // Retries are ours (cockatiel, idempotent only); reply-from's own would retry GET on 503.
              retryDelay: () => null,
              rewriteRequestHeaders: (_req, headers) => forwardedHeaders(request, headers) as typeof headers,
              rewriteHeaders: (headers) => {
                const out = { ...headers };
                delete out.traceparent;
                delete out['x-request-id'];
                return out;
              },
              onResponse: (_req, res, upstreamResponse) => {
                done(String(upstreamResponse.statusCode));
                resolve();
                void res.send(upstreamResponse.stream);
              },
              onError: (_res, { error }) => {
                if (limiter?.exceeded) {
                  reject(gatewayErrors.GATEWAY_PAYLOAD_TOO_LARGE(`The request body is larger than ${bodyLimit} bytes.`));
                  return;
                }
                if (request.raw.socket.destroyed || (!request.raw.complete && request.raw.destroyed)) {
                  // The client went away; not the upstream's fault, so the breaker does not count it.
                  reject(errors.VALIDATION_FAILED('The client aborted the request.'));
                  return;
                }
                const failure = classifyTransportError(error);
                done(failure.kind === 'timeout' ? 'timeout' : 'error');
                reject(failure);
              },
            });
          }),
        );
        return reply;
      };
      scope.all(prefix, handler);
      scope.all(`${prefix}/*`, handler);
      // Stricter limit (own counters) where passwords can be guessed or accounts mass-created.
      for (const url of strictlyLimited) {
        scope.post(url, { config: { rateLimit: { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: config.RATE_LIMIT_WINDOW_MS } } }, handler);
      }
    };
  }

  void app.register(proxyScope(upstreams.auth, '/api/auth', config.BODY_LIMIT_BYTES, CREDENTIAL_ROUTES));
  void app.register(proxyScope(upstreams.images, '/api/images', config.UPLOAD_LIMIT_BYTES, []));

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
