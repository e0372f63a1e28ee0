import {
  baseConfigShape,
  chaosConfigShape,
  refineChaosConfig,
  envBool,
  envInt,
  envOptionalSecret,
  envOptionalString,
  envUrl,
  pgliteConfigShape,
  trustProxyConfigShape,
  z,
} from '@sre/platform';

/**
 * The Images service's configuration (README.md#configuration lists every variable). Parsed once
 * in main.ts; nothing below reads process.env.
 */
export const configSchema = z
  .object({
    ...baseConfigShape,
    /** Drill-only fault injection on the management port (packages/platform/src/chaos.ts). */
    ...chaosConfigShape,
    /** Whose X-Forwarded-For to believe (the client address in logs): shared meaning, docs/configuration.md#trusted-proxies-trust_proxy. */
    ...trustProxyConfigShape,
    /** PostgreSQL URL (a secret: it carries the password). Unset: embedded PGlite. */
    DATABASE_URL: envOptionalSecret(),
    /** Where embedded PGlite keeps its files when DATABASE_URL is unset; unset means in memory (lost on exit). */
    ...pgliteConfigShape,
    DATABASE_POOL_MAX: envInt(10, 1, 100),

    /** Access tokens are verified locally with the Auth service's public keys. */
    AUTH_JWKS_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8081/.well-known/jwks.json'),
    JWT_ISSUER: z.string().min(1).default('sre-platform-auth'),
    JWT_AUDIENCE: z.string().min(1).default('sre-platform'),
    JWKS_REFRESH_INTERVAL_MS: envInt(5 * 60_000, 1000, 24 * 3600_000),

    STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
    /** Create the bucket (or directory) at start; when false and it is missing, readiness fails. */
    STORAGE_CREATE_BUCKET: envBool(true),
    STORAGE_LOCAL_DIR: z.string().min(1).default('.data/images/objects'),
    /** S3 endpoint for MinIO, Ceph, R2 and the like; unset means AWS S3 for S3_REGION. */
    S3_ENDPOINT: envOptionalString().pipe(z.string().url({ error: 'must be a URL' }).optional()),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be a valid S3 bucket name' })
      .default('images'),
    /** Path-style URLs (endpoint/bucket/key): needed by MinIO and most self-hosted servers. */
    S3_FORCE_PATH_STYLE: envBool(false),
    /** Static credentials; when both are unset the AWS default chain is used (IRSA, instance role, env). */
    S3_ACCESS_KEY_ID: envOptionalSecret(),
    S3_SECRET_ACCESS_KEY: envOptionalSecret(),
    S3_REQUEST_TIMEOUT_MS: envInt(10_000, 100, 300_000),
    S3_MAX_ATTEMPTS: envInt(3, 1, 10),

    /** Largest accepted upload; the request is cut off with 413 as soon as it is exceeded. */
    UPLOAD_MAX_BYTES: envInt(10 * 1024 * 1024, 1024, 200 * 1024 * 1024),
    /** Uploads received or processed at once; beyond it 503 IMAGES_BUSY (bounds memory to about this × UPLOAD_MAX_BYTES). */
    UPLOAD_MAX_IN_FLIGHT: envInt(16, 1, 1000),
    /** Largest accepted pixel count (width × height × frames), read from the header before decoding. */
    IMAGE_MAX_PIXELS: envInt(40_000_000, 1, 1_000_000_000),
    THUMBNAIL_MAX_EDGE_PX: envInt(256, 16, 4096),
    /** sharp jobs running at once. Keep below UV_THREADPOOL_SIZE (4) so file and DNS work still gets threads. */
    IMAGE_PROCESSING_CONCURRENCY: envInt(2, 1, 64),
    LIST_DEFAULT_LIMIT: envInt(20, 1, 1000),
    LIST_MAX_LIMIT: envInt(100, 1, 1000),
    /** The reconciler only removes objects/rows older than this (must exceed the longest upload). */
    RECONCILE_GRACE_SECONDS: envInt(900, 0, 7 * 86_400),
    /**
     * Period of the in-process reconcile (orphans, dangling rows, tombstones, stale `.tmp/*.part`);
     * 0 turns it off. Unset: 3600 with STORAGE_DRIVER=local (one machine, nothing else would run it),
     * 0 with s3 (Kubernetes runs the reconcile as a CronJob instead).
     */
    RECONCILE_INTERVAL_SECONDS: envInt(undefined, 0, 7 * 86_400).optional(),
    /** Test-only management routes that stall uploads (fault drills). Never enable in production. */
    FAULT_INJECTION: envBool(false),
  })
  .superRefine((c, ctx) => {
    refineChaosConfig(c, ctx);
    if ((c.S3_ACCESS_KEY_ID === undefined) !== (c.S3_SECRET_ACCESS_KEY === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['S3_SECRET_ACCESS_KEY'], message: 'and S3_ACCESS_KEY_ID must be set together' });
    }
    if (c.LIST_DEFAULT_LIMIT > c.LIST_MAX_LIMIT) {
      ctx.addIssue({ code: 'custom', path: ['LIST_DEFAULT_LIMIT'], message: 'must be <= LIST_MAX_LIMIT' });
    }
  });

export type Config = z.output<typeof configSchema>;
