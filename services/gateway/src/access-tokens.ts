import { createAccessTokenVerifier, remoteKeySource, type AccessTokenVerifier, type Platform } from '@sre/platform';
import type { Config } from './config.js';
import { TokenCache } from './token-cache.js';

export interface AccessTokens {
  readonly verifier: AccessTokenVerifier;
  readonly tokenCache: TokenCache;
}

/**
 * Access tokens are verified here with Auth's public keys (JWKS); Auth is never called per request.
 * Made when the app is built, not inside a plugin: the keys start loading at once and readiness needs
 * its check before the public app has loaded its plugins (the management port listens first).
 */
export function createAccessTokens(config: Config, platform: Platform, fetchImpl?: typeof fetch): AccessTokens {
  const keySource = remoteKeySource({
    jwksUrl: config.JWKS_URL ?? new URL('/.well-known/jwks.json', config.AUTH_URL).toString(),
    logger: platform.logger,
    refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
    unknownKeyCooldownMs: config.JWKS_UNKNOWN_KID_COOLDOWN_MS,
    ...(fetchImpl ? { fetchImpl } : {}),
  });
  // Readiness is "can verify tokens": keys loaded (or still cached from an earlier load). It does not
  // follow upstream health: with Images down, auth routes must keep working, and failing readiness
  // would take every gateway replica out of the Service at once (docs/local.md, services/gateway/README.md).
  platform.health.addCheck({
    name: 'signing-keys',
    check: async () => {
      if (!keySource.loaded()) await keySource.keys();
    },
  });
  return {
    verifier: createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, keySource }),
    tokenCache: new TokenCache(config.TOKEN_CACHE_MAX_ENTRIES),
  };
}
