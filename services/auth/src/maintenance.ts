import type { Logger } from '@sre/platform';
import { sql, type Kysely } from 'kysely';
import type { AuthContext } from './context.js';
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

export interface MaintenanceLoop {
  /** Deletes expired rows now (tests, and each tick of the loop). */
  purge(): Promise<PurgeResult>;
  /** Stops the timer; a purge already running finishes on its own. */
  stop(): void;
}

/**
 * Runs `purgeExpired` every MAINTENANCE_INTERVAL_SECONDS (0: never) once migrations are applied.
 * A failed run is logged and tried again at the next tick.
 */
export function startMaintenance(context: Pick<AuthContext, 'config' | 'database' | 'migrations'>, logger: Logger): MaintenanceLoop {
  const { config, database, migrations } = context;
  const purge = () => purgeExpired(database.db, config.LOGIN_THROTTLE_WINDOW_SECONDS);
  const timer =
    config.MAINTENANCE_INTERVAL_SECONDS > 0
      ? setInterval(() => {
          if (!migrations.isDone()) return;
          purge().then(
            (result) => logger.info({ purged: result }, 'expired rows purged'),
            (err: unknown) => logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'purge of expired rows failed; will retry'),
          );
        }, config.MAINTENANCE_INTERVAL_SECONDS * 1000)
      : undefined;
  timer?.unref();
  return { purge, stop: () => clearInterval(timer) };
}
