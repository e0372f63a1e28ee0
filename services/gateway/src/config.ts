import { fileURLToPath } from 'node:url';
import { baseConfigShape, chaosConfigShape, envInt, envOptionalString, envUrl, refineChaosConfig, trustProxyConfigShape, z } from '@sre/platform';

/** Where `npm run build -w @sre/web` puts the web app, relative to this file (src/ and dist/ alike). */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../packages/web/dist', import.meta.url));

export const configSchema = z
  .object({
    ...baseConfigShape,
    /** Opt-in fault injection for drills (platform chaos routes on the management port). */
    ...chaosConfigShape,
    /** Base URLs of the upstreams (a Kubernetes Service name in a cluster). */
    AUTH_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8081'),
    IMAGES_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8082'),
    /** Defaults to AUTH_URL + /.well-known/jwks.json. */
    JWKS_URL: envOptionalString().pipe(z.union([z.undefined(), envUrl(['http', 'https'])])),
    JWT_ISSUER: z.string().min(1).default('sre-platform-auth'),
    JWT_AUDIENCE: z.string().min(1).default('sre-platform'),
    JWKS_REFRESH_INTERVAL_MS: envInt(5 * 60_000, 1000, 24 * 3600_000),
    /** At most one JWKS refetch per this period for tokens naming an unknown kid. */
    JWKS_UNKNOWN_KID_COOLDOWN_MS: envInt(30_000, 0, 3600_000),
    /** Verified tokens are remembered until they expire, at most this many. */
    TOKEN_CACHE_MAX_ENTRIES: envInt(10_000, 0, 1_000_000),
    /** Time allowed for an upstream to send response headers once the request is sent. */
    AUTH_TIMEOUT_MS: envInt(5000, 100, 600_000),
    IMAGES_TIMEOUT_MS: envInt(30_000, 100, 600_000),
    UPSTREAM_CONNECT_TIMEOUT_MS: envInt(2000, 50, 60_000),
    /**
     * Source address for connections to the upstreams. Auth believes the client address the gateway forwards
     * only from the gateway's address; on one machine every local client is 127.0.0.1 too, so `npm start`
     * gives the gateway its own loopback address (127.0.0.3) and Auth trusts only that.
     */
    UPSTREAM_LOCAL_ADDRESS: envOptionalString().pipe(z.union([z.undefined(), z.union([z.ipv4(), z.ipv6()])])),
    /** Retries for idempotent requests (GET/HEAD) after connection failures; 0 disables. */
    UPSTREAM_RETRIES: envInt(2, 0, 10),
    UPSTREAM_RETRY_INITIAL_DELAY_MS: envInt(50, 1, 10_000),
    UPSTREAM_RETRY_MAX_DELAY_MS: envInt(500, 1, 60_000),
    /** Consecutive failures (connect errors, timeouts) that open an upstream's circuit. */
    BREAKER_CONSECUTIVE_FAILURES: envInt(5, 1, 1000),
    /** An open circuit lets one trial request through after this long. */
    BREAKER_HALF_OPEN_AFTER_MS: envInt(5000, 100, 600_000),
    /** Per client IP, per window. */
    RATE_LIMIT_MAX: envInt(600, 1, 1_000_000),
    /** Stricter limit for POST /api/auth/login and /api/auth/register, per client IP, per window. */
    AUTH_RATE_LIMIT_MAX: envInt(20, 1, 1_000_000),
    RATE_LIMIT_WINDOW_MS: envInt(60_000, 1000, 3600_000),
    /** Largest upload passed to Images; a little above its own limit so Images answers IMAGES_TOO_LARGE. */
    UPLOAD_LIMIT_BYTES: envInt(10 * 1024 * 1024 + 64 * 1024, 1024, 1024 * 1024 * 1024),
    /**
     * An oversize body is read and discarded up to this many bytes (and this long) before the 413, so the
     * client can read it; past either bound the connection is closed (drain.ts).
     */
    OVERSIZE_DRAIN_MAX_BYTES: envInt(24 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    OVERSIZE_DRAIN_TIMEOUT_MS: envInt(10_000, 0, 600_000),
    /** Comma-separated origins allowed by CORS; unset means CORS is off (same-origin web app). */
    CORS_ALLOWED_ORIGINS: envOptionalString(),
    /** Whose X-Forwarded-* to believe: the proxy in front (the Ingress), shared meaning (docs/configuration.md). */
    ...trustProxyConfigShape,
    /** Directory of the built web app, served at /. */
    WEB_ROOT: z.string().min(1).default(DEFAULT_WEB_ROOT),
    HSTS_MAX_AGE_SEC: envInt(180 * 24 * 3600, 0, 2 * 365 * 24 * 3600),
  })
  .superRefine(refineChaosConfig);

export type Config = z.output<typeof configSchema>;
