import { Transform, type Readable } from 'node:stream';
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errors } from '@sre/platform';
import type { Config } from '../config.js';
import { drainThen } from '../drain.js';
import { gatewayErrors } from '../errors.js';
import { pathOf } from '../paths.js';
import { classifyTransportError, type Upstream, type UpstreamMetrics } from '../upstream.js';

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

type LimitedRequest = FastifyRequest & { bodyLimiter?: ByteLimit };

/** Characters a path can hold as is in a URL: then `base + path` is what `new URL` would build. */
const URL_SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe the client's connection to us, not ours to the upstream.
 * `expect` is among them for a proxy: undici refuses a request carrying it, and forwarding it turned every
 * `Expect: 100-continue` (curl's default above 1 MB) into a 503 that counted against the upstream's breaker.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'] as const;

function withoutHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const out = { ...headers };
  // Headers the sender listed in Connection are hop-by-hop too.
  const listed = typeof out.connection === 'string' ? out.connection.split(',').map((h) => h.trim().toLowerCase()) : [];
  for (const name of [...HOP_BY_HOP, ...listed]) delete out[name];
  return out;
}

/**
 * Headers for the upstream: the request id and the client address as we determined it. The caller's
 * trace headers are dropped: with tracing on, the SDK injects our client span's traceparent (a
 * forwarded one would sit beside it); with tracing off, no hop of ours is in any trace.
 */
function forwardedHeaders(request: FastifyRequest, headers: Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[] | undefined> = withoutHopByHop(headers);
  out['x-request-id'] = request.id;
  delete out.traceparent;
  delete out.tracestate;
  // A client-supplied X-Forwarded-For is replaced unless it came through a trusted proxy
  // (TRUST_PROXY), so upstreams can throttle by the real IP.
  const ips = request.ips;
  out['x-forwarded-for'] = ips && ips.length > 1 ? [...ips].reverse().join(', ') : request.ip;
  out['x-forwarded-proto'] = request.protocol;
  out['x-forwarded-host'] = request.host;
  return out;
}

function upstreamResponseHeaders<T extends Record<string, unknown>>(headers: T): T {
  // The upstream's `connection: keep-alive` must not override a client's `Connection: close`.
  const out = withoutHopByHop(headers);
  delete out.traceparent;
  delete out['x-request-id'];
  return out;
}

export interface ProxyScopeOptions {
  upstream: Upstream;
  metrics: UpstreamMetrics;
  config: Config;
  prefix: string;
  bodyLimit: number;
  /** POST routes with the stricter credential rate limit. */
  strictlyLimited: readonly string[];
}

/**
 * One encapsulated scope per upstream: its own HTTP client (reply-from), no body parsing (bodies pass
 * through as streams, with a byte cap) and its routes. Named after the upstream (`proxy-auth`): hook spans
 * are named after their plugin (@fastify/otel).
 */
export function proxyScope({ upstream, metrics, config, prefix, bodyLimit, strictlyLimited }: ProxyScopeOptions) {
  const base = upstream.baseUrl.endsWith('/') ? upstream.baseUrl : `${upstream.baseUrl}/`;
  // Label children resolved once: prom-client otherwise hashes the label set on every call.
  const durationChild = metrics.duration.labels({ upstream: upstream.name });
  const countChildren = new Map<string, { inc(): void }>();
  const count = (statusCode: string) => {
    let child = countChildren.get(statusCode);
    if (!child) countChildren.set(statusCode, (child = metrics.requests.labels({ upstream: upstream.name, status_code: statusCode })));
    child.inc();
  };

  const drainBounds = { maxBytes: config.OVERSIZE_DRAIN_MAX_BYTES, timeoutMs: config.OVERSIZE_DRAIN_TIMEOUT_MS };
  /** The refusal of an oversize body; the connection is closed after it, whatever was left unread. */
  const tooLarge = (reply: FastifyReply) => {
    reply.header('connection', 'close');
    return gatewayErrors.GATEWAY_PAYLOAD_TOO_LARGE(`The request body is larger than ${bodyLimit} bytes.`);
  };

  async function proxyRoutes(scope: FastifyInstance): Promise<void> {
    await scope.register(replyFrom, {
      undici: {
        connectTimeout: config.UPSTREAM_CONNECT_TIMEOUT_MS,
        connections: 128,
        keepAliveTimeout: 4000,
        ...(config.UPSTREAM_LOCAL_ADDRESS ? { localAddress: config.UPSTREAM_LOCAL_ADDRESS } : {}),
      },
      disableRequestLogging: true,
    });
    // No parsing here: every body is streamed to the upstream as it arrives, with a byte cap.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (request, payload, done) => {
      const limiter = new ByteLimit(bodyLimit);
      (request as LimitedRequest).bodyLimiter = limiter;
      payload.on('error', (err) => limiter.destroy(err));
      // When the handler refuses a request before reply-from reads its body and the client then aborts,
      // nothing consumes the limiter: without a listener its 'error' was uncaught and took the process
      // down (found by the fuzz test). The abort itself is handled where the body is read, if ever.
      limiter.on('error', () => {});
      done(null, (payload as Readable).pipe(limiter));
    });
    // After the token check (app-level preParsing runs first): refuse a declared oversize body
    // before reading any of it. Callback style: no promise per request.
    // The body is read and discarded first (bounded), so the client gets to read the 413 (drain.ts).
    scope.addHook('preParsing', (request, reply, payload, done) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared <= bodyLimit) return done(null, payload);
      const refusal = tooLarge(reply);
      if (declared > drainBounds.maxBytes) return done(refusal);
      drainThen(request.raw, drainBounds, () => done(refusal));
    });

    const sourceFor = (request: FastifyRequest): string => {
      const rest = pathOf(request.raw.url).slice(prefix.length) || '/';
      if (rest.includes('%')) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(rest);
        } catch {
          throw errors.VALIDATION_FAILED('The request path is not valid.');
        }
        if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) throw errors.VALIDATION_FAILED('The request path is not valid.');
      }
      const relative = rest.replace(/^\/+/, '');
      return URL_SAFE_PATH.test(relative) ? base + relative : new URL(relative, base).toString();
    };

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const source = sourceFor(request);
      const idempotent = request.method === 'GET' || request.method === 'HEAD';
      const limiter = (request as LimitedRequest).bodyLimiter;

      await upstream.run(
        idempotent,
        () =>
          new Promise<void>((resolve, reject) => {
            const started = performance.now();
            const done = (statusCode: string) => {
              count(statusCode);
              durationChild.observe((performance.now() - started) / 1000);
            };
            reply.from(source, {
              timeout: upstream.timeoutMs,
              // Retries are ours (cockatiel, idempotent only); reply-from's own would retry GET on 503.
              retryDelay: () => null,
              rewriteRequestHeaders: (_req, headers) => forwardedHeaders(request, headers) as typeof headers,
              rewriteHeaders: upstreamResponseHeaders,
              onResponse: (_req, res, upstreamResponse) => {
                done(String(upstreamResponse.statusCode));
                resolve();
                void res.send(upstreamResponse.stream);
              },
              onError: (_res, { error }) => {
                if (limiter?.exceeded) {
                  const refusal = tooLarge(reply);
                  drainThen(request.raw, drainBounds, () => reject(refusal));
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
  }
  return fp(proxyRoutes, { name: `proxy-${upstream.name}`, fastify: '5.x', encapsulate: true });
}
