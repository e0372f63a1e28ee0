import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { AuthDatabase } from './db/schema.js';

export interface ThrottleSettings {
  accountFreeAttempts: number;
  ipFreeAttempts: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  windowSeconds: number;
}

export interface ThrottleKeys {
  account: string;
  ip: string;
}

/**
 * Login throttling whose state lives in PostgreSQL, so it holds across replicas. Each failed login
 * counts against the account and the client IP; past the free attempts every further failure locks
 * the key for base × 2^(n−1) seconds (capped). A successful login clears the account counter
 * (not the IP counter: one valid account must not launder guesses against others).
 *
 * Known limit: a burst of concurrent attempts all pass the check before the first failure is
 * recorded, so the free-attempt count can be exceeded by the burst size once; argon2 bounds the rate.
 */
export function createLoginThrottle(db: Kysely<AuthDatabase>, settings: ThrottleSettings) {
  return {
    /** Account keys hash the email: people type passwords into the email field. */
    keysFor(email: string, ip: string): ThrottleKeys {
      return { account: `account:${createHash('sha256').update(email).digest('hex')}`, ip: `ip:${ip}` };
    },

    /** Seconds until the longest lock on these keys ends, or 0. */
    async retryAfterSeconds(keys: ThrottleKeys): Promise<number> {
      const { rows } = await sql<{ wait: number | null }>`
        select ceil(extract(epoch from max(locked_until) - now()))::int as wait
        from login_throttle where key in (${keys.account}, ${keys.ip}) and locked_until > now()`.execute(db);
      return Math.max(0, rows[0]?.wait ?? 0);
    },

    async recordFailure(keys: ThrottleKeys): Promise<void> {
      await bump(keys.account, settings.accountFreeAttempts);
      await bump(keys.ip, settings.ipFreeAttempts);
    },

    async recordSuccess(keys: ThrottleKeys): Promise<void> {
      await db.deleteFrom('login_throttle').where('key', '=', keys.account).execute();
    },
  };

  async function bump(key: string, freeAttempts: number): Promise<void> {
    const { rows } = await sql<{ failures: number }>`
      insert into login_throttle (key, failures, last_failure_at, locked_until)
      values (${key}, 1, now(), null)
      on conflict (key) do update set
        failures = case when login_throttle.last_failure_at < now() - make_interval(secs => ${settings.windowSeconds})
                        then 1 else login_throttle.failures + 1 end,
        last_failure_at = now()
      returning failures`.execute(db);
    const failures = rows[0]?.failures ?? 1;
    const beyond = failures - freeAttempts;
    if (beyond <= 0) return;
    const delay = Math.min(settings.maxDelaySeconds, settings.baseDelaySeconds * 2 ** Math.min(beyond - 1, 30));
    await sql`
      update login_throttle
      set locked_until = greatest(coalesce(locked_until, now()), now() + make_interval(secs => ${delay}))
      where key = ${key}`.execute(db);
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
