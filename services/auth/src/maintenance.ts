import { sql, type Kysely } from 'kysely';
import type { AuthDatabase } from './db/schema.js';

export interface PurgeResult {
  refreshTokens: number;
  refreshFamilies: number;
  throttleRows: number;
}

/**
 * Deletes what can no longer matter: refresh tokens expired for a day, families with no live token
 * left, and throttle counters idle past the window and not locked. Every replica may run it;
 * concurrent runs delete disjoint or already-deleted rows, which is harmless.
 */
export async function purgeExpired(db: Kysely<AuthDatabase>, throttleWindowSeconds: number): Promise<PurgeResult> {
  const tokens = await sql`delete from refresh_tokens where expires_at < now() - interval '1 day'`.execute(db);
  const families = await sql`
    delete from refresh_families as f
    where f.created_at < now() - interval '1 day'
      and not exists (select 1 from refresh_tokens as t where t.family_id = f.id and t.expires_at > now())`.execute(db);
  const throttle = await sql`
    delete from login_throttle
    where last_failure_at < now() - make_interval(secs => ${throttleWindowSeconds})
      and (locked_until is null or locked_until < now())`.execute(db);
  return {
    refreshTokens: Number(tokens.numAffectedRows ?? 0n),
    refreshFamilies: Number(families.numAffectedRows ?? 0n),
    throttleRows: Number(throttle.numAffectedRows ?? 0n),
  };
}
