import { bearerToken, TokenVerificationError, type AccessTokenVerifier } from '@sre/platform';
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
 * onRequest hook: the caller's identity comes only from a verified access token. Identity headers a
 * caller (or a misconfigured proxy) sets are never read.
 */
export function authenticate(verifier: AccessTokenVerifier) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    try {
      const claims = await verifier.verify(bearerToken(request.headers.authorization));
      if (!isUuid(claims.sub)) throw new TokenVerificationError('invalid', 'subject is not a user id');
      request.ownerId = claims.sub.toLowerCase();
    } catch (err) {
      if (err instanceof TokenVerificationError && err.reason === 'keys_unavailable') {
        throw imagesErrors.IMAGES_AUTH_UNAVAILABLE(undefined, { headers: { 'retry-after': '2' } });
      }
      const reason = err instanceof TokenVerificationError ? err.reason : 'invalid';
      throw imagesErrors.IMAGES_UNAUTHORIZED(undefined, {
        headers: { 'www-authenticate': reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"' },
      });
    }
  };
}
