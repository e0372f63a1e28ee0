import { bearerToken, tokenFailureError, TokenVerificationError, type AccessTokenVerifier, type TokenErrorCodes } from '@sre/platform';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { gatewayErrors } from '../errors.js';
import { nonCanonicalPathReason, pathOf } from '../paths.js';
import type { TokenCache } from '../token-cache.js';
import { isApiDocsPath } from './api-docs.js';

/** Auth routes reachable without a token (method + path after /api/auth). Everything else needs one. */
const PUBLIC_AUTH_ROUTES = new Set([
  'POST /register',
  'POST /login',
  'POST /refresh',
  'POST /logout',
  'GET /.well-known/jwks.json',
  'HEAD /.well-known/jwks.json',
]);

/** Token failures: the platform's one answer (authenticate.ts) with the gateway's codes. */
const TOKEN_ERRORS: TokenErrorCodes = { unauthorized: gatewayErrors.GATEWAY_UNAUTHORIZED, keysUnavailable: gatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE };

export interface TokenCheckDeps {
  verifier: AccessTokenVerifier;
  tokenCache: TokenCache;
}

/**
 * The gateway's token check: every /api path but the public auth routes and the API reference needs a
 * valid access token, checked before the body is read (preParsing: after the rate limit, before anything
 * is proxied). Callback style, synchronous when the token is in the cache (issue 11); failures answer as
 * the platform's `authenticate` does (tokenFailureError). fastify-plugin, so the hook covers every route.
 */
async function tokenCheckPlugin(app: FastifyInstance, { verifier, tokenCache }: TokenCheckDeps): Promise<void> {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const path = pathOf(request.raw.url);
    const afterToken = (err?: unknown) => {
      if (err) return done(err as Error);
      // Canonical paths only (paths.ts): a variant such as /api/auth//register matched a route with a
      // looser limit than the path the upstream serves, so it is refused here, before it is proxied.
      // After the token check, so an anonymous caller learns nothing new; counted by the global limit.
      const reason = nonCanonicalPathReason(path);
      if (reason) return done(gatewayErrors.GATEWAY_NON_CANONICAL_PATH(`The request path contains ${reason}; send the canonical path.`));
      return done(null, payload);
    };
    if (!needsToken(request.method, path)) return afterToken();
    // The cache hit stays synchronous (issue 11); failures answer as the platform's `authenticate` does.
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (!token) return afterToken(tokenFailureError(header === undefined || String(header).trim() === '' ? 'missing' : 'malformed', TOKEN_ERRORS));
    const cached = tokenCache.get(token);
    if (cached) {
      request.accessToken = cached;
      return afterToken();
    }
    verifier.verify(token).then(
      (claims) => {
        tokenCache.set(token, claims);
        request.accessToken = claims;
        afterToken();
      },
      (err: unknown) => afterToken(tokenFailureError(err instanceof TokenVerificationError ? err.reason : 'invalid', TOKEN_ERRORS)),
    );
    return undefined;
  });

  function needsToken(method: string, path: string): boolean {
    if (!path.startsWith('/api/') || isApiDocsPath(path)) return false;
    return !(path.startsWith('/api/auth/') && PUBLIC_AUTH_ROUTES.has(`${method} ${path.slice('/api/auth'.length)}`));
  }
}

export const tokenCheck = fp(tokenCheckPlugin, { name: 'token-check', fastify: '5.x' });
