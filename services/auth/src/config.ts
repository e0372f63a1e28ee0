import {
  baseConfigShape,
  chaosConfigShape,
  envInt,
  refineChaosConfig,
  envOptionalSecret,
  envOptionalString,
  envSecret,
  pgliteConfigShape,
  trustProxyConfigShape,
  z,
} from '@sre/platform';
import { parsePrivateKey, parsePublicKeys } from './keys.js';

/**
 * OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB (19456 KiB), t=2, p=1.
 * The schema refuses anything weaker; tests lower the cost by building the config object in code.
 */
export const ARGON2_OWASP_MINIMUM = { memoryKiB: 19_456, timeCost: 2, parallelism: 1 } as const;

const postgresUrl = envOptionalSecret().refine(
  (v) => {
    if (v === undefined) return true;
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  },
  { error: 'must be a URL with protocol postgres or postgresql' },
);

export const configSchema = z
  .object({
    ...baseConfigShape,
    /** Opt-in fault injection for drills (platform chaos routes on the management port). */
    ...chaosConfigShape,
    /** PostgreSQL; when unset, embedded PGlite (same schema and migrations). Contains a password: secret. */
    DATABASE_URL: postgresUrl,
    /** PGlite data directory when DATABASE_URL is unset; unset means in memory (lost on exit). */
    ...pgliteConfigShape,
    DATABASE_POOL_MAX: envInt(10, 1, 200),
    /** Ed25519 private key, PKCS#8 PEM (`\n` escapes accepted). Never logged. */
    JWT_PRIVATE_KEY: envSecret(1).superRefine((value, ctx) => {
      const key = parsePrivateKey(value);
      // The message names the rule, never the value.
      if (key instanceof Error) ctx.addIssue({ code: 'custom', message: key.message });
    }),
    /** Extra public keys published in the JWKS (previous key during a rotation, or the next one). */
    JWT_PREVIOUS_PUBLIC_KEYS: envOptionalString().superRefine((value, ctx) => {
      if (value === undefined) return;
      const keys = parsePublicKeys(value);
      if (keys instanceof Error) ctx.addIssue({ code: 'custom', message: keys.message });
    }),
    JWT_ISSUER: z.string().min(1).default('sre-platform-auth'),
    JWT_AUDIENCE: z.string().min(1).default('sre-platform'),
    ACCESS_TOKEN_TTL_SECONDS: envInt(900, 30, 24 * 3600),
    REFRESH_TOKEN_TTL_SECONDS: envInt(30 * 24 * 3600, 60, 365 * 24 * 3600),
    ARGON2_MEMORY_KIB: envInt(ARGON2_OWASP_MINIMUM.memoryKiB, ARGON2_OWASP_MINIMUM.memoryKiB, 4 * 1024 * 1024),
    ARGON2_TIME_COST: envInt(ARGON2_OWASP_MINIMUM.timeCost, ARGON2_OWASP_MINIMUM.timeCost, 20),
    ARGON2_PARALLELISM: envInt(ARGON2_OWASP_MINIMUM.parallelism, ARGON2_OWASP_MINIMUM.parallelism, 16),
    /** Failed logins per account allowed before back-off starts. */
    LOGIN_THROTTLE_ACCOUNT_FREE_ATTEMPTS: envInt(5, 1, 1000),
    /** Failed logins per client IP (any account) allowed before back-off starts; NAT shares IPs, so higher. */
    LOGIN_THROTTLE_IP_FREE_ATTEMPTS: envInt(20, 1, 100_000),
    /** First lock-out; each further failure doubles it. */
    LOGIN_THROTTLE_BASE_DELAY_SECONDS: envInt(1, 1, 3600),
    LOGIN_THROTTLE_MAX_DELAY_SECONDS: envInt(900, 1, 24 * 3600),
    /** A failure counter idle this long starts again from zero. */
    LOGIN_THROTTLE_WINDOW_SECONDS: envInt(3600, 60, 7 * 24 * 3600),
    /**
     * Requests per client IP per window on POST /register and on POST /login (each counted apart).
     * Same name and default as the gateway's limit on those routes, so one setting (npm start, the
     * test harnesses) moves both; Auth keeps its own so it never relies on the gateway alone.
     */
    AUTH_RATE_LIMIT_MAX: envInt(20, 1, 1_000_000),
    RATE_LIMIT_WINDOW_MS: envInt(60_000, 1000, 3600_000),
    /** How often each replica deletes expired refresh tokens and idle throttle rows; 0 turns it off. */
    MAINTENANCE_INTERVAL_SECONDS: envInt(3600, 0, 7 * 24 * 3600),
    /**
     * Whose X-Forwarded-For to believe for the per-IP throttles: the gateway, plus the proxies the gateway
     * itself trusts (it forwards their chain). Shared meaning: docs/configuration.md#trusted-proxies-trust_proxy.
     */
    ...trustProxyConfigShape,
  })
  // Checked here rather than in installChaos, so it is reported like every other config problem.
  .superRefine(refineChaosConfig);

export type Config = z.output<typeof configSchema>;
