import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { Config } from './config.js';
import { authErrors } from './errors.js';

type RateLimitConfig = Pick<Config, 'AUTH_RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_MS'>;

/**
 * Per-client-IP limit on the credential routes (register, login), inside Auth itself: the gateway
 * limits them too, but a path it fails to recognise (issue 15: `//register` reached the catch-all
 * route) or a caller inside the cluster must still meet a limit. In memory per replica, like the
 * gateway's; the database-backed login throttle (throttle.ts) is the cross-replica guard for
 * password guessing. `request.ip` is the client's address when TRUST_PROXY names the gateway.
 *
 * Not encapsulated (fastify-plugin), and registered before the routes: @fastify/rate-limit's
 * onRoute hook must see every route added later.
 */
export const credentialRateLimit = fp<{ config: RateLimitConfig }>(
  async function credentialRateLimit(app, { config }) {
    await app.register(rateLimit, {
      // Only routes that opt in (credentialRateLimitOptions below) are limited; /me, /refresh and the JWKS are not.
      global: false,
      max: config.AUTH_RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) => {
        const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
        return authErrors.AUTH_RATE_LIMITED(`Too many sign-up or login attempts from this address; retry in ${seconds} s.`, {
          headers: { 'retry-after': String(seconds) },
        });
      },
    });
  },
  { name: 'credential-rate-limit', fastify: '5.x' },
);

/** Route options of a limited credential route: each route counts separately. */
export function credentialRateLimitOptions(config: RateLimitConfig) {
  return { rateLimit: { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: config.RATE_LIMIT_WINDOW_MS } };
}
