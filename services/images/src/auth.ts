import { authenticate as authenticateToken, createAccessTokenVerifier, remoteKeySource, type AccessTokenVerifier, type Logger } from '@sre/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from './config.js';
import { imagesErrors } from './errors.js';
import { isUuid } from './http-utils.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified `sub` of the caller's access token. */
    ownerId: string;
  }
}

/**
 * onRequest hook: the platform's token check (one WWW-Authenticate / Retry-After behaviour in every
 * service), then the owner is the token's subject, which must be a user id.
 */
export function authenticate(verifier: AccessTokenVerifier) {
  const check = authenticateToken({
    verifier,
    acceptSubject: isUuid,
    errors: { unauthorized: imagesErrors.IMAGES_UNAUTHORIZED, keysUnavailable: imagesErrors.IMAGES_AUTH_UNAVAILABLE },
  });
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await check(request, reply);
    request.ownerId = (request.accessToken?.sub ?? '').toLowerCase();
  };
}

/** Verifies access tokens locally with the Auth service's public keys (fetched from AUTH_JWKS_URL, refreshed). */
export function createVerifier(
  config: Pick<Config, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'AUTH_JWKS_URL' | 'JWKS_REFRESH_INTERVAL_MS'>,
  logger: Logger,
  fetchImpl?: typeof fetch,
): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    keySource: remoteKeySource({
      jwksUrl: config.AUTH_JWKS_URL,
      logger,
      refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
      ...(fetchImpl ? { fetchImpl } : {}),
    }),
  });
}
