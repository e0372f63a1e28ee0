import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** CORS_ALLOWED_ORIGINS as a list: comma-separated, blanks ignored. Empty means CORS stays off. */
export function parseAllowedOrigins(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

export interface CorsOptions {
  allowedOrigins: readonly string[];
}

/**
 * Cross-origin access for the listed origins only (@fastify/cors). The web app is same-origin, so
 * app.ts registers this only when origins are configured: the default path pays nothing.
 * fastify-plugin, so its onRequest hook answers preflights for every route, before the rate limit and the
 * token check (a browser's preflight carries no token).
 */
async function corsPlugin(app: FastifyInstance, { allowedOrigins }: CorsOptions): Promise<void> {
  const allowed = new Set(allowedOrigins);
  await app.register(fastifyCors, {
    // A function rather than the list: with a list, @fastify/cors still answers preflights and writes
    // Access-Control-Expose-Headers for origins that are not on it. This way any other origin gets no CORS
    // header at all, and its OPTIONS request goes on like any other request.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'traceparent', 'if-none-match'],
    exposedHeaders: ['x-request-id', 'traceparent', 'retry-after'],
    maxAge: 600,
    optionsSuccessStatus: 204,
    // Strict mode answers an OPTIONS request without Access-Control-Request-Method with a plain-text 400
    // outside our error shape; an allowed origin's OPTIONS request is answered as a preflight instead.
    strictPreflight: false,
  });
}

export const cors = fp(corsPlugin, { name: 'cors', fastify: '5.x' });
