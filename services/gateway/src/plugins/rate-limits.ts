import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { gatewayErrors } from '../errors.js';

export type RateLimitOptions = Pick<Config, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_MS'>;

/**
 * Per-client-IP limits (in memory per replica): RATE_LIMIT_MAX for everything; routes add a stricter one
 * through their `config.rateLimit` (the credential routes, proxy.ts). fastify-plugin, so the limiter's
 * onRoute listener sees the routes registered after it, in every scope.
 */
async function rateLimitsPlugin(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: options.RATE_LIMIT_MAX,
    timeWindow: options.RATE_LIMIT_WINDOW_MS,
    // The TCP peer, or the client named by a trusted proxy (TRUST_PROXY): never a header anyone can set.
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return gatewayErrors.GATEWAY_RATE_LIMITED(`Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`, {
        headers: { 'retry-after': String(seconds) },
      });
    },
  });
}

export const rateLimits = fp(rateLimitsPlugin, { name: 'rate-limits', fastify: '5.x' });
