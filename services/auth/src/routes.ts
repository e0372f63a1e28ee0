import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { authenticate, tokenFailureError, type ZodTypeProvider } from '@sre/platform';
import type { AuthContext } from './context.js';
import { authErrors } from './errors.js';
import { PASSWORD_MAX, passwordPolicyError } from './password-policy.js';
import { passwordLength } from './passwords.js';
import { credentialRateLimitOptions } from './rate-limit.js';
import { routeSchemas } from './schemas.js';
import { REFRESH_TOKEN_PATTERN, revokeFamilyOf, rotateRefreshToken, signAccessToken, startRefreshFamily } from './tokens.js';
import { hasMixedScriptLocalPart, isValidEmail, normaliseEmail } from './validation.js';

/** Auth bodies are tiny; 4 KiB leaves room for 128 four-byte characters and JSON escaping. */
const AUTH_BODY_LIMIT = 4096;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Auth's public API: accounts, login, token refresh and revocation, /me and the JWKS. Encapsulated,
 * so the JSON-only content-type rule stays inside; the credential rate limit (rate-limit.ts) must
 * be registered before it.
 */
export const authRoutes: FastifyPluginCallback<{ context: AuthContext }> = function authRoutes(scope, { context: ctx }, done) {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const { config, database, metrics } = ctx;
  const db = database.db;

  // JSON only: a text/plain body must not reach a JSON schema as a string.
  app.removeContentTypeParser(['text/plain']);

  /** Database routes answer 503 until migrations are applied (start-up before the database). */
  const requireMigrated = async () => {
    if (!ctx.migrations.isDone()) throw authErrors.AUTH_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '1' } });
  };

  const issueTokens = async (reply: FastifyReply, user: { id: string; email: string }, refreshToken: string) => {
    const accessToken = await signAccessToken(
      ctx.keys,
      { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS },
      user,
    );
    metrics.tokensIssued.inc({ type: 'access' });
    metrics.tokensIssued.inc({ type: 'refresh' });
    // RFC 6749 §5.1: token responses must not be cached.
    void reply.header('cache-control', 'no-store');
    return { accessToken, refreshToken, tokenType: 'Bearer' as const, expiresIn: config.ACCESS_TOKEN_TTL_SECONDS };
  };

  app.post(
    '/register',
    { bodyLimit: AUTH_BODY_LIMIT, schema: routeSchemas.register, preHandler: requireMigrated, config: credentialRateLimitOptions(config) },
    async (request, reply) => {
      const email = normaliseEmail(request.body.email);
      if (!isValidEmail(email)) throw authErrors.AUTH_EMAIL_INVALID();
      if (hasMixedScriptLocalPart(email)) throw authErrors.AUTH_EMAIL_MIXED_SCRIPT();
      const { password } = request.body;
      const lengthError = passwordPolicyError(password);
      if (lengthError?.code === 'AUTH_PASSWORD_POLICY') throw lengthError;
      // An existing account is said before the strength rules: the person should log in, not pick a
      // better password. Saying it at all is a documented choice (README "Registering an existing
      // email"): 409 behind the per-IP limit on this route.
      const existing = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
      if (existing) throw authErrors.AUTH_EMAIL_TAKEN();
      if (lengthError) throw lengthError;
      const passwordHash = await ctx.passwords.hash(password);
      // ON CONFLICT DO NOTHING: of N concurrent registrations exactly one inserts; no error path.
      const created = await db
        .insertInto('users')
        .values({ id: randomUUID(), email, password_hash: passwordHash })
        .onConflict((oc) => oc.column('email').doNothing())
        .returning(['id', 'email'])
        .executeTakeFirst();
      if (!created) throw authErrors.AUTH_EMAIL_TAKEN();
      metrics.registrations.inc();
      return reply.code(201).send({ id: created.id, email: created.email });
    },
  );

  app.post(
    '/login',
    { bodyLimit: AUTH_BODY_LIMIT, schema: routeSchemas.login, preHandler: requireMigrated, config: credentialRateLimitOptions(config) },
    async (request, reply) => {
      const email = normaliseEmail(request.body.email);
      const password = request.body.password;
      const keys = ctx.throttle.keysFor(email, request.ip);
      const wait = await ctx.throttle.retryAfterSeconds(keys);
      if (wait > 0) {
        metrics.logins.inc({ result: 'throttled' });
        throw authErrors.AUTH_THROTTLED(undefined, { headers: { 'retry-after': String(wait) } });
      }
      // Unknown and known emails do the same work: one argon2 verification (against a dummy hash
      // when there is no account), so neither the answer nor its timing tells them apart.
      const plausible = isValidEmail(email) && passwordLength(password) <= PASSWORD_MAX && password.length > 0;
      const user = plausible ? await db.selectFrom('users').select(['id', 'email', 'password_hash']).where('email', '=', email).executeTakeFirst() : undefined;
      const ok = plausible && (await ctx.passwords.verify(user?.password_hash, password)) && user !== undefined;
      if (!ok || !user) {
        await ctx.throttle.recordFailure(keys);
        metrics.logins.inc({ result: 'failure' });
        throw authErrors.AUTH_INVALID_CREDENTIALS();
      }
      await ctx.throttle.recordSuccess(keys);
      metrics.logins.inc({ result: 'success' });
      const refreshToken = await startRefreshFamily(db, user.id, config.REFRESH_TOKEN_TTL_SECONDS);
      return reply.send(await issueTokens(reply, user, refreshToken));
    },
  );

  app.post('/refresh', { bodyLimit: AUTH_BODY_LIMIT, schema: routeSchemas.refresh, preHandler: requireMigrated }, async (request, reply) => {
    const { refreshToken } = request.body;
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw authErrors.AUTH_REFRESH_INVALID();
    const result = await rotateRefreshToken(db, refreshToken, config.REFRESH_TOKEN_TTL_SECONDS);
    if (!result.ok) {
      if (result.reuseDetected) {
        metrics.refreshReuse.inc();
        request.log.warn('refresh token reused: family revoked');
      }
      throw authErrors.AUTH_REFRESH_INVALID();
    }
    return reply.send(await issueTokens(reply, result.user, result.refreshToken));
  });

  app.post('/logout', { bodyLimit: AUTH_BODY_LIMIT, schema: routeSchemas.logout, preHandler: requireMigrated }, async (request, reply) => {
    // Idempotent: an unknown, expired or already revoked token still answers 204 (nothing to undo,
    // nothing to learn).
    if (REFRESH_TOKEN_PATTERN.test(request.body.refreshToken)) await revokeFamilyOf(db, request.body.refreshToken);
    return reply.code(204).send(null);
  });

  // One token check for every service (platform `authenticate`); our own keys never go missing, so
  // "keys unavailable" cannot happen here.
  const checkToken = authenticate({
    verifier: ctx.verifier,
    acceptSubject: (sub) => UUID_PATTERN.test(sub),
    errors: {
      unauthorized: authErrors.AUTH_TOKEN_INVALID,
      missing: authErrors.AUTH_TOKEN_MISSING,
      expired: authErrors.AUTH_TOKEN_EXPIRED,
      keysUnavailable: authErrors.AUTH_TOKEN_INVALID,
    },
  });
  app.get('/me', { schema: routeSchemas.me, preHandler: [requireMigrated, checkToken] }, async (request) => {
    const sub = request.accessToken?.sub ?? '';
    const user = await db.selectFrom('users').select(['id', 'email', 'created_at']).where('id', '=', sub).executeTakeFirst();
    if (!user) throw tokenFailureError('invalid', { unauthorized: authErrors.AUTH_TOKEN_INVALID, keysUnavailable: authErrors.AUTH_TOKEN_INVALID });
    return { id: user.id, email: user.email, createdAt: new Date(user.created_at).toISOString() };
  });

  // Public keys only; served even while the database is down, so verifiers keep working.
  app.get('/.well-known/jwks.json', { schema: routeSchemas.jwks }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return ctx.keys.jwks;
  });
  done();
};
