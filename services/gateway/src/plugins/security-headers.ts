import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { activeTraceparent } from '@sre/platform';

/** CSP: our own assets only. */
export const CONTENT_SECURITY_POLICY = {
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

/**
 * The security headers helmet sends, computed once. Our policy has no per-request part (no nonces),
 * yet helmet re-reads its directives on every request (a profile under load showed it, issue 11);
 * so helmet runs once here against a recording response, and every request gets the recorded
 * headers in one write. helmet stays the source of truth for which headers and values to send.
 */
export function staticSecurityHeaders(): Readonly<Record<string, string>> {
  const headers: OutgoingHttpHeaders = {};
  const recorder = {
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  let failure: unknown;
  helmet({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  })({} as never, recorder as never, (err?: unknown) => (failure = err));
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return Object.freeze(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
}

export interface SecurityHeadersOptions {
  /** HSTS max-age on TLS requests; 0 sends no HSTS. */
  hstsMaxAgeSec: number;
}

/**
 * Every response's fixed headers, in one synchronous onRequest hook: helmet's set (computed once, above),
 * the trace context and HSTS. One callback-style hook on purpose: each separate async hook and header
 * write showed in the CPU profile under load (issue 11). fastify-plugin, so the hook covers every route.
 */
async function securityHeadersPlugin(app: FastifyInstance, { hstsMaxAgeSec }: SecurityHeadersOptions): Promise<void> {
  const headers = staticSecurityHeaders();
  const hsts = hstsMaxAgeSec > 0 ? `max-age=${hstsMaxAgeSec}; includeSubDomains` : undefined;
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers);
    // The OpenTelemetry SDK's trace context (docs/tracing.md): the client gets our server span back to find its trace.
    const traceparent = activeTraceparent();
    if (traceparent) void reply.header('traceparent', traceparent);
    // HSTS only over TLS (directly or via a trusted proxy's X-Forwarded-Proto): RFC 6797 §7.2.
    if (hsts && request.protocol === 'https') void reply.header('strict-transport-security', hsts);
    done();
  });
}

export const securityHeaders = fp(securityHeadersPlugin, { name: 'security-headers', fastify: '5.x' });
