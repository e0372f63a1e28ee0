import type { ColumnType } from 'kysely';

/** Set by the database (`default now()`), never written by the service. */
type CreatedAt = ColumnType<Date, never, never>;

export interface UsersTable {
  id: string;
  /** Normalised: NFC, trimmed, lower-case. Unique. */
  email: string;
  /** argon2id PHC string. */
  password_hash: string;
  created_at: CreatedAt;
}

/** A login session: every refresh token rotated from one login shares the family. */
export interface RefreshFamiliesTable {
  id: string;
  user_id: string;
  created_at: CreatedAt;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  /** SHA-256 (hex) of the opaque token; the token itself is never stored. */
  token_hash: string;
  family_id: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

/** Failed-login counters shared by all replicas; key = "account:<sha256(email)>" or "ip:<address>". */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  last_failure_at: Date;
  locked_until: Date | null;
}

export interface AuthDatabase {
  users: UsersTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  login_throttle: LoginThrottleTable;
}
