import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, TokenVerificationError, type AccessTokenClaims, type AccessTokenVerifier, type TokenFailure } from './access-tokens.js';
import type { AppError, ErrorFactory } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims of the caller's access token (set by `authenticate`). */
    accessToken?: AccessTokenClaims;
  }
}

/** A service's own codes for the token failures (its error catalogue). */
export interface TokenErrorCodes {
  /** 401: no token, an invalid one, or (unless `expired` is given) an expired one. */
  unauthorized: ErrorFactory;
  /** 401 for an expired token, when the service tells it apart (the client should refresh). */
  expired?: ErrorFactory;
  /** 401 for no token at all, when the service tells it apart. */
  missing?: ErrorFactory;
  /** 503: no signing keys loaded yet (Auth unreachable since start). */
  keysUnavailable: ErrorFactory;
}

/** How long a client waits before retrying while the signing keys are not loaded. */
export const KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

const DESCRIPTIONS: Record<Exclude<TokenFailure, 'keys_unavailable'>, string> = {
  missing: 'An access token is required (Authorization: Bearer <token>).',
  malformed: 'The access token is malformed.',
  expired: 'The access token has expired.',
  invalid: 'The access token is invalid.',
};

/**
 * The one answer to a token failure in every service (gateway, Images, Auth /me). RFC 6750 §3:
 * `WWW-Authenticate: Bearer` when no token came, `Bearer error="invalid_token"` with a description
 * when one did (the body never says which check failed); 503 with Retry-After while no keys are loaded.
 */
export function tokenFailureError(reason: TokenFailure, codes: TokenErrorCodes): AppError {
  if (reason === 'keys_unavailable') return codes.keysUnavailable(undefined, { headers: { 'retry-after': String(KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS) } });
  const challenge = reason === 'missing' ? 'Bearer' : `Bearer error="invalid_token", error_description="${DESCRIPTIONS[reason]}"`;
  const headers = { 'www-authenticate': challenge };
  const factory = (reason === 'expired' ? codes.expired : reason === 'missing' ? codes.missing : undefined) ?? codes.unauthorized;
  return factory(undefined, { headers });
}

export interface AuthenticateOptions {
  verifier: AccessTokenVerifier;
  errors: TokenErrorCodes;
  /** Refuses a valid token whose subject is not one of ours (e.g. not a user id): 401 invalid. */
  acceptSubject?: (sub: string) => boolean;
}

/** The reason a request's Authorization header gives no usable token. */
function headerFailure(header: string | string[] | undefined): TokenFailure | undefined {
  if (header === undefined || (typeof header === 'string' && header.trim() === '')) return 'missing';
  return bearerToken(header) === undefined ? 'malformed' : undefined;
}

/**
 * A hook (onRequest or preHandler) that lets a request through only with a valid access token, and
 * sets `request.accessToken`. The caller's identity comes only from the verified token: identity
 * headers a caller (or a misconfigured proxy) sets are never read.
 */
export function authenticate(options: AuthenticateOptions) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const failure = headerFailure(request.headers.authorization);
    if (failure) throw tokenFailureError(failure, options.errors);
    let claims: AccessTokenClaims;
    try {
      claims = await options.verifier.verify(bearerToken(request.headers.authorization));
    } catch (err) {
      throw tokenFailureError(err instanceof TokenVerificationError ? err.reason : 'invalid', options.errors);
    }
    if (options.acceptSubject && !options.acceptSubject(claims.sub)) throw tokenFailureError('invalid', options.errors);
    request.accessToken = claims;
  };
}
