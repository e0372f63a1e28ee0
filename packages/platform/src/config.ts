import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Configuration is a schema: each service declares one, it is parsed once at start, and the frozen
 * result is passed down. Nothing below main.ts reads process.env.
 */

/** Values that ship in examples and must never reach a running service. */
const PLACEHOLDER_PATTERN = /^(|change[-_ ]?me.*|<.*>|placeholder|todo|xxx+|replace[-_ ]?me.*)$/i;
/** A placeholder inside a larger value: `postgres://auth:CHANGE_ME@postgres/auth`. */
const EMBEDDED_PLACEHOLDER_PATTERN = /change[-_]?me|replace[-_]?me/i;

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERN.test(value.trim()) || EMBEDDED_PLACEHOLDER_PATTERN.test(value);
}

const PLACEHOLDER_MESSAGE = 'is a placeholder value; generate a real secret (see docs/deploy.md)';

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(service: string, problems: readonly string[]) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** An integer from an environment string, with bounds. */
export function envInt(defaultValue: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const int = z.coerce
    .number({ error: 'must be an integer' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` });
  return defaultValue === undefined ? int : int.default(defaultValue);
}

/** A boolean from "true"/"false"/"1"/"0". */
export function envBool(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
}

/** An optional string: unset and empty both mean "not configured". */
export function envOptionalString() {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
}

/**
 * A secret: required, not a placeholder from secrets.example.yaml. Its value never appears in
 * error messages (zod's messages for these checks do not echo input, and we format issues ourselves).
 */
export function envSecret(minLength = 1) {
  return z
    .string({ error: 'is required' })
    .min(minLength, { error: `must be at least ${minLength} characters` })
    .refine((v) => !isPlaceholder(v), { error: PLACEHOLDER_MESSAGE });
}

/**
 * An optional secret (a DATABASE_URL carrying a password, storage keys): unset or empty means "not
 * configured", but a value copied from secrets.example.yaml is refused rather than failing later.
 */
export function envOptionalSecret() {
  return envOptionalString().refine((v) => v === undefined || !isPlaceholder(v), { error: PLACEHOLDER_MESSAGE });
}

export function envUrl(protocols: readonly string[]) {
  return z.string({ error: 'is required' }).refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { error: `must be a URL with protocol ${protocols.join(' or ')}` },
  );
}

/** Settings every service shares; services extend this shape. */
export const baseConfigShape = {
  HOST: z.string().default('0.0.0.0'),
  PORT: envInt(8080, 1, 65535),
  MANAGEMENT_PORT: envInt(9464, 1, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Time between failing readiness and closing the listener, so endpoints forget this pod first. */
  DRAIN_DELAY_MS: envInt(5000, 0, 120_000),
  /** Hard stop: must stay below the pod's terminationGracePeriodSeconds. */
  SHUTDOWN_TIMEOUT_MS: envInt(25_000, 1000, 600_000),
  /** Time allowed to receive a whole request (slow-loris guard). */
  REQUEST_TIMEOUT_MS: envInt(30_000, 1000, 600_000),
  /** Default JSON body limit; upload routes set their own. */
  BODY_LIMIT_BYTES: envInt(64 * 1024, 1024, 100 * 1024 * 1024),
  /** Readiness results are reused for this long so probes do not hammer dependencies. */
  READINESS_CACHE_MS: envInt(1000, 0, 60_000),
  READINESS_CHECK_TIMEOUT_MS: envInt(2000, 100, 60_000),
} as const;

/**
 * Whose `X-Forwarded-*` headers a service believes: the client address they yield keys rate limits
 * and login throttles, so believing a client's own header lets it pick its limit bucket. One meaning
 * in every service (docs/configuration.md#trusted-proxies-trust_proxy), as Fastify's `trustProxy` takes it:
 * - `false`: nobody; the TCP peer is the client;
 * - a hop count `N`: the N nearest hops are proxies (only they can reach the port: NetworkPolicy);
 * - addresses/CIDRs, comma-separated: only those peers are proxies.
 * `true` (believe every peer) is refused: with it any client chooses its own address.
 */
export type TrustProxy = false | number | string;

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY (see {@link TrustProxy}); unset or empty means `false`. */
export function envTrustProxy() {
  return z
    .string()
    .optional()
    .transform((v, ctx): TrustProxy => {
      const value = (v ?? '').trim();
      if (value === '' || value === 'false') return false;
      if (value === 'true') {
        ctx.addIssue({
          code: 'custom',
          message: 'must not be "true" (any client could choose its address); give a hop count or the proxies\' addresses/CIDRs',
        });
        return z.NEVER;
      }
      if (/^\d+$/.test(value)) return Number(value);
      const entries = value.split(',').map((e) => e.trim());
      if (entries.some((e) => !isAddressOrCidr(e))) {
        ctx.addIssue({ code: 'custom', message: 'must be false, a hop count, or a comma list of IP addresses/CIDRs' });
        return z.NEVER;
      }
      return entries.join(',');
    });
}

/** Spread into the schema of every service with a public port: `...trustProxyConfigShape`. */
export const trustProxyConfigShape = { TRUST_PROXY: envTrustProxy() } as const;

/** The value Images once documented for "no folder"; refused so it never becomes a folder named `:memory:`. */
const PGLITE_MEMORY_MARKER = ':memory:';

/**
 * Spread into the schema of every service with a database: where embedded PGlite keeps its files
 * when DATABASE_URL is unset. Unset means in memory (lost on exit) in every service: tests and
 * one-off runs leave nothing behind, and `npm start` always passes a folder under `.data/`, so no
 * service writes into whatever directory it was started from.
 */
export const pgliteConfigShape = {
  PGLITE_DATA_DIR: envOptionalString().refine((v) => v !== PGLITE_MEMORY_MARKER, {
    error: 'must be a folder; leave it unset to keep the data in memory',
  }),
} as const;

export type BaseConfig = {
  HOST: string;
  PORT: number;
  MANAGEMENT_PORT: number;
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  DRAIN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  REQUEST_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  READINESS_CACHE_MS: number;
  READINESS_CHECK_TIMEOUT_MS: number;
};

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Parses `env` against `schema`, reporting every problem at once. Messages name variables and
 * rules, never values.
 */
export function parseConfig<S extends z.ZodType>(service: string, schema: S, env: Record<string, string | undefined>): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const missing = issue.code === 'invalid_type' && env[name] === undefined;
      return missing ? `${name} is required` : `${name} ${issue.message}`;
    });
    throw new ConfigError(service, problems);
  }
  return deepFreeze(result.data);
}

/** For main.ts: parse or print one clear message and exit 1. */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.output<S>> {
  try {
    return parseConfig(service, schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export { z };
