import { errorResponses as errors, z } from '@sre/platform';

/**
 * Request and response schemas of Auth's routes: the one place their shapes are written. Handlers
 * take their types from these (zod type provider) and the OpenAPI document is generated from them
 * (tools/openapi). Email and password are only typed here: their rules answer Auth's own codes
 * (AUTH_EMAIL_INVALID, AUTH_PASSWORD_*), so the handlers apply them.
 */

export const credentialsBody = z.strictObject({
  email: z.string().meta({ description: 'Normalised (NFKC, trimmed, lower-case) before use.', examples: ['alice@example.com'] }),
  password: z.string().meta({ description: '8 to 128 characters; not only spaces; not a common password.' }),
});

export const refreshBody = z.strictObject({
  refreshToken: z.string().min(1).max(512),
});

export const accountView = z.object({ id: z.uuid(), email: z.string() }).meta({ id: 'Account' });

export const tokenResponse = z
  .object({
    accessToken: z.string().meta({ description: 'EdDSA-signed JWT (typ at+jwt).' }),
    refreshToken: z.string().meta({ description: 'Single use: each refresh returns a new one.' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires.' }),
  })
  .meta({ id: 'TokenPair' });

export const meView = z.object({ id: z.uuid(), email: z.string(), createdAt: z.iso.datetime() }).meta({ id: 'Me' });

export const jwksView = z
  .object({
    keys: z.array(
      z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.literal('EdDSA'), use: z.literal('sig') }),
    ),
  })
  .meta({ id: 'JWKS', description: 'RFC 7517 JSON Web Key Set: the public keys that verify access tokens.' });

export const routeSchemas = {
  register: { tags: ['auth'], summary: 'Create an account', body: credentialsBody, response: { 201: accountView, ...errors } },
  login: { tags: ['auth'], summary: 'Log in with email and password', body: credentialsBody, response: { 200: tokenResponse, ...errors } },
  refresh: { tags: ['auth'], summary: 'Exchange a refresh token for a new token pair', body: refreshBody, response: { 200: tokenResponse, ...errors } },
  logout: {
    tags: ['auth'],
    summary: 'Revoke a refresh token family (idempotent)',
    body: refreshBody,
    response: { 204: z.null().meta({ description: 'Revoked, or nothing to revoke.' }), ...errors },
  },
  me: { tags: ['auth'], summary: 'The account of the access token', security: [{ bearerAuth: [] }], response: { 200: meView, ...errors } },
  jwks: { tags: ['auth'], summary: 'Public signing keys (JWKS)', response: { 200: jwksView, ...errors } },
} as const;
