import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Logger } from './logging.js';

/**
 * Access-token verification shared by every service that accepts tokens (gateway, images, auth's
 * own /me). Only asymmetric EdDSA is accepted, so `alg: none` and HS256-with-the-public-key
 * (algorithm confusion, RFC 8725 §2.1) fail before any key is used. Verification needs only public
 * keys: the private key never leaves the Auth service.
 */

export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA'] as const;

export interface AccessTokenClaims {
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly email?: string;
}

export type TokenFailure = 'missing' | 'malformed' | 'expired' | 'invalid' | 'keys_unavailable';

export class TokenVerificationError extends Error {
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, message: string) {
    super(message);
    this.name = 'TokenVerificationError';
    this.reason = reason;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(header.trim());
  return match?.[1];
}

export interface KeySource {
  /** The current key set; may fetch. Rejects when no keys have ever been loaded. */
  keys(): Promise<JSONWebKeySet>;
  /** Called when a token names a kid we do not have: refetch (rate-limited) and return the new set. */
  onUnknownKey(): Promise<JSONWebKeySet>;
  /** True once keys have been loaded at least once (readiness). */
  loaded(): boolean;
  close(): void;
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  keySource: KeySource;
  /** Clock skew tolerated on exp/iat, seconds. */
  clockToleranceSec?: number;
}

export interface AccessTokenVerifier {
  verify(token: string | undefined): Promise<AccessTokenClaims>;
  loaded(): boolean;
  close(): void;
}

export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const verifyWith = async (token: string, jwks: JSONWebKeySet) => {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: [...ACCESS_TOKEN_ALGORITHMS],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSec ?? 5,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      typ: 'at+jwt',
    });
    return payload;
  };

  return {
    loaded: () => options.keySource.loaded(),
    close: () => options.keySource.close(),
    async verify(token) {
      if (!token) throw new TokenVerificationError('missing', 'An access token is required.');
      let jwks: JSONWebKeySet;
      try {
        jwks = await options.keySource.keys();
      } catch {
        throw new TokenVerificationError('keys_unavailable', 'Signing keys are not available yet.');
      }
      let payload: JWTPayload;
      try {
        payload = await verifyWith(token, jwks);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw classify(err);
        // A kid we have not seen: the Auth service may have rotated keys. Refetch once.
        try {
          jwks = await options.keySource.onUnknownKey();
        } catch {
          throw new TokenVerificationError('invalid', 'The access token is invalid.');
        }
        try {
          payload = await verifyWith(token, jwks);
        } catch (retryErr) {
          throw classify(retryErr);
        }
      }
      if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
        throw new TokenVerificationError('invalid', 'The access token is invalid.');
      }
      return {
        sub: payload.sub,
        jti: payload.jti,
        iat: payload.iat ?? 0,
        exp: payload.exp ?? 0,
        ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      };
    },
  };
}

function classify(err: unknown): TokenVerificationError {
  if (err instanceof joseErrors.JWTExpired) return new TokenVerificationError('expired', 'The access token has expired.');
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return new TokenVerificationError('malformed', 'The access token is malformed.');
  }
  return new TokenVerificationError('invalid', 'The access token is invalid.');
}

/** Keys known locally (the Auth service verifying its own tokens). */
export function staticKeySource(jwks: JSONWebKeySet): KeySource {
  return { keys: async () => jwks, onUnknownKey: async () => jwks, loaded: () => true, close: () => undefined };
}

export interface RemoteKeySourceOptions {
  jwksUrl: string;
  logger: Logger;
  /** Background refresh period; a failed refresh keeps the keys we have. */
  refreshIntervalMs?: number;
  /** At most one refetch per this period for unknown kids, so junk tokens cannot flood Auth. */
  unknownKeyCooldownMs?: number;
  fetchTimeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/**
 * JWKS fetched from the Auth service and kept: refreshed in the background, refetched (rate-limited)
 * on an unknown kid, and still served from memory while Auth is down. Nothing is fetched per request.
 */
export function remoteKeySource(options: RemoteKeySourceOptions): KeySource {
  const fetchImpl = options.fetchImpl ?? fetch;
  const cooldownMs = options.unknownKeyCooldownMs ?? 30_000;
  let current: JSONWebKeySet | undefined;
  let lastFetchAt = 0;
  let inFlight: Promise<JSONWebKeySet> | undefined;
  let startRetryMs = 250;
  let closed = false;

  const fetchKeys = () => {
    inFlight ??= (async () => {
      lastFetchAt = Date.now();
      try {
        const res = await fetchImpl(options.jwksUrl, { signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 2000) });
        if (!res.ok) throw new Error(`JWKS endpoint answered ${res.status}`);
        const body = (await res.json()) as JSONWebKeySet;
        if (!Array.isArray(body.keys) || body.keys.length === 0) throw new Error('JWKS has no keys');
        const loadedBefore = current !== undefined;
        current = body;
        if (!loadedBefore) options.logger.info({ keys: body.keys.length }, 'signing keys loaded');
        return body;
      } catch (err) {
        options.logger.warn({ reason: err instanceof Error ? err.message : String(err), cached: current !== undefined }, 'JWKS fetch failed');
        if (current) return current;
        // No keys at all yet (Auth still starting): try again soon rather than at the next refresh, or an
        // instance that saw no request before Auth went down would have no keys for the whole outage.
        const retry = setTimeout(
          () => void (closed ? undefined : fetchKeys().catch(() => undefined)),
          Math.min(startRetryMs, options.refreshIntervalMs ?? 5 * 60_000),
        );
        retry.unref();
        startRetryMs = Math.min(startRetryMs * 2, 5000);
        throw err;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const timer = setInterval(() => void fetchKeys().catch(() => undefined), options.refreshIntervalMs ?? 5 * 60_000);
  timer.unref();
  void fetchKeys().catch(() => undefined);

  return {
    loaded: () => current !== undefined,
    close: () => {
      closed = true;
      clearInterval(timer);
    },
    // With no keys yet, try now (rate-limited, so an Auth outage at start is not hammered).
    keys: async () => current ?? (Date.now() - lastFetchAt >= 1000 || inFlight ? fetchKeys() : Promise.reject(new Error('no keys yet'))),
    onUnknownKey: async () => {
      if (current && Date.now() - lastFetchAt < cooldownMs) return current;
      return fetchKeys();
    },
  };
}
