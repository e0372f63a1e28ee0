import { authenticate as authenticateToken, type AccessTokenVerifier } from '@sre/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
