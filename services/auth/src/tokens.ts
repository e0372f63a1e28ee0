import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sql, type Kysely } from 'kysely';
import type { AuthDatabase } from './db/schema.js';
import type { SigningKeys } from './keys.js';

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** EdDSA JWT with the header and claims every verifier expects (see docs/architecture.md#tokens). */
export async function signAccessToken(keys: SigningKeys, settings: AccessTokenSettings, user: { id: string; email: string }): Promise<string> {
  return new SignJWT({ email: user.email })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(`${settings.ttlSeconds}s`)
    .setJti(randomUUID())
    .sign(keys.privateKey);
}

/** 256 random bits, base64url: opaque to clients, unguessable, stored only as its SHA-256. */
export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 is enough here (unlike passwords): the input has 256 bits of entropy. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Db = Kysely<AuthDatabase>;

/** Starts a new family (one per login) and returns its first refresh token. */
export async function startRefreshFamily(db: Db, userId: string, ttlSeconds: number): Promise<string> {
  const familyId = randomUUID();
  const token = newRefreshToken();
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('refresh_families').values({ id: familyId, user_id: userId, revoked_at: null, revoked_reason: null }).execute();
    await insertToken(trx, token, familyId, userId, ttlSeconds);
  });
  return token;
}

async function insertToken(db: Db, token: string, familyId: string, userId: string, ttlSeconds: number): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      token_hash: hashRefreshToken(token),
      family_id: familyId,
      user_id: userId,
      expires_at: sql<Date>`now() + make_interval(secs => ${ttlSeconds})`,
      used_at: null,
    })
    .execute();
}

export type RotationResult = { ok: true; user: { id: string; email: string }; refreshToken: string } | { ok: false; reuseDetected: boolean };

/**
 * Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
 * The conditional UPDATE … WHERE used_at IS NULL … RETURNING marks the token used atomically: of two
 * concurrent uses PostgreSQL lets exactly one update the row; the other sees it used, which is a
 * reuse, and revokes the family — including the token the winner just received.
 */
export async function rotateRefreshToken(db: Db, token: string, ttlSeconds: number): Promise<RotationResult> {
  const tokenHash = hashRefreshToken(token);
  const rotated = await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ user_id: string; family_id: string; email: string }>`
      update refresh_tokens as t set used_at = now()
      from refresh_families as f, users as u
      where t.token_hash = ${tokenHash}
        and t.used_at is null
        and t.expires_at > now()
        and f.id = t.family_id and f.revoked_at is null
        and u.id = t.user_id
      returning t.user_id, t.family_id, u.email`.execute(trx);
    const row = rows[0];
    if (!row) return undefined;
    const next = newRefreshToken();
    await insertToken(trx, next, row.family_id, row.user_id, ttlSeconds);
    return { user: { id: row.user_id, email: row.email }, refreshToken: next };
  });
  if (rotated) return { ok: true, ...rotated };

  const known = await db.selectFrom('refresh_tokens').select(['family_id', 'used_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!known || known.used_at === null) return { ok: false, reuseDetected: false };
  const revoked = await revokeFamily(db, known.family_id, 'reuse');
  // Report reuse once per family, not for every later attempt with a stale token.
  return { ok: false, reuseDetected: revoked };
}

/** Revokes the family of `token` whatever its state (logout); unknown tokens are ignored. */
export async function revokeFamilyOf(db: Db, token: string): Promise<void> {
  const known = await db.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', hashRefreshToken(token)).executeTakeFirst();
  if (known) await revokeFamily(db, known.family_id, 'logout');
}

async function revokeFamily(db: Db, familyId: string, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('refresh_families')
    .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
    .where('id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
