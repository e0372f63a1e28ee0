import multipart from '@fastify/multipart';
import { createAccessTokenVerifier, createHttpApp, createManagementApp, createPlatform, installChaos, remoteKeySource, type Platform } from '@sre/platform';
import { openDatabase, runMigrationsWithRetry, type Database } from '@sre/platform/db';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import sharp from 'sharp';
import { classifyError } from './classify-error.js';
import type { Config } from './config.js';
import { DB_SCHEMA, migrations, type ImagesDatabase } from './db.js';
import { faultRoutes, type UploadStall } from './fault-routes.js';
import { CleanupQueue, instrumentStorage } from './instrumented-storage.js';
import { AdmissionLimit, Semaphore } from './limiter.js';
import { createImagesMetrics, type ImagesMetrics } from './metrics.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { ImageRepository } from './repository.js';
import { imagesRoutes } from './routes.js';
import { ImageService, type UploadStep } from './service.js';
import { BucketMissingError, createStorage, type ObjectStorage } from './storage/index.js';
import { purgeStaleTempFiles } from './storage/local.js';

export interface AppDeps {
  /** Replaces the storage built from config (tests wrap a real driver to stop it mid-upload). */
  storage?: ObjectStorage;
  logDestination?: DestinationStream;
  collectProcessMetrics?: boolean;
  fetchImpl?: typeof fetch;
  /** How often failed object deletions are retried. */
  cleanupRetryMs?: number;
}

export interface ImagesApp {
  readonly app: FastifyInstance;
  readonly management: FastifyInstance;
  readonly platform: Platform;
  readonly metrics: ImagesMetrics;
  readonly database: Database<ImagesDatabase>;
  readonly repository: ImageRepository;
  readonly storage: ObjectStorage;
  readonly cleanup: CleanupQueue;
  readonly work: Semaphore;
  /** Resolves when migrations have run (retries until the database is reachable). */
  readonly ready: Promise<void>;
  /** Reconciles storage and rows, and (local storage) purges stale temporary files. */
  reconcile(options?: { graceMs?: number; dryRun?: boolean }): Promise<ReconcileReport & { temporaryFilesRemoved: number }>;
  close(): Promise<void>;
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<ImagesApp> {
  // libvips' operation cache keeps decoded images around; uploads are never repeated, so it only costs memory.
  sharp.cache(false);
  const platform = createPlatform({
    service: 'images',
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    collectProcessMetrics: deps.collectProcessMetrics ?? true,
  });
  const { logger, health } = platform;
  const metrics = createImagesMetrics(platform.metrics.registry);

  const database = openDatabase<ImagesDatabase>({
    url: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  const migrationRunner = runMigrationsWithRetry(database, migrations, { logger, tableSchema: DB_SCHEMA });
  const repository = new ImageRepository(database.db);

  // Fault drills and crash tests (FAULT_INJECTION=true only): the upload step to hold uploads at,
  // for up to a minute, so a test can SIGKILL the process there (test/crash-steps.integration.test.ts).
  const stall: UploadStall = { at: undefined };
  const holdAt = async (step: UploadStep) => {
    for (let i = 0; stall.at === step && i < 600; i++) await new Promise((r) => setTimeout(r, 100));
  };
  const storage = instrumentStorage(
    deps.storage ?? createStorage(config, config.FAULT_INJECTION ? { afterTempWritten: () => holdAt('temp-written') } : {}),
    metrics,
  );
  const cleanup = new CleanupQueue(storage, logger, metrics, deps.cleanupRetryMs ?? 5000);
  const work = new Semaphore(config.IMAGE_PROCESSING_CONCURRENCY);
  const admission = new AdmissionLimit(config.UPLOAD_MAX_IN_FLIGHT);

  const ensureBucket = async () => {
    await storage.ensureBucket(config.STORAGE_CREATE_BUCKET);
  };
  ensureBucket().catch((err: unknown) => logger.warn({ reason: (err as Error).message, storage: storage.location }, 'storage not ready at start'));

  // images_stored: recounted from the database every minute (so replicas agree), moved by
  // this instance's own uploads and deletes in between.
  const recount = async () => {
    if (migrationRunner.isDone()) metrics.storedTotal.set(await repository.countVisible());
  };
  const recountTimer = setInterval(() => void recount().catch(() => undefined), 60_000);
  recountTimer.unref();
  const ready = migrationRunner.done.then(() => recount().catch(() => undefined));

  health.addCheck({
    name: 'database',
    check: async () => {
      if (!migrationRunner.isDone()) throw new Error(`migrations pending: ${migrationRunner.lastError() ?? 'running'}`);
      await database.ping();
    },
  });
  health.addCheck({
    name: 'storage',
    check: async (signal) => {
      try {
        await storage.check(signal);
      } catch (err) {
        // Created lazily when allowed, e.g. storage came up after this instance.
        if (err instanceof BucketMissingError && config.STORAGE_CREATE_BUCKET) await ensureBucket();
        else throw err;
      }
    },
  });

  const service = new ImageService({
    config,
    repository,
    storage,
    cleanup,
    work,
    metrics,
    logger,
    ...(config.FAULT_INJECTION
      ? {
          atUploadStep: holdAt,
        }
      : {}),
  });

  const verifier = createAccessTokenVerifier({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    keySource: remoteKeySource({
      jwksUrl: config.AUTH_JWKS_URL,
      logger,
      refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
      ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    }),
  });

  const app = createHttpApp(platform, {
    config,
    classifyError,
    trustProxy: config.TRUST_PROXY,
    openapi: { title: 'Images service', version: '1.0.0', description: "Each user's images: upload, list, read, delete." },
  });
  await app.register(multipart, { throwFileSizeLimit: true });
  await app.register(imagesRoutes({ config, verifier, migrations: migrationRunner, admission, service, repository, storage, metrics }));
  // Fault drills and crash tests only (FAULT_INJECTION=true): see fault-routes.ts.
  const management = createManagementApp(platform, config.FAULT_INJECTION ? { register: faultRoutes(stall) } : {});

  // Opt-in drills (CHAOS_ENABLED): readiness, latency, error, CPU and memory faults.
  const chaos = installChaos(platform, app, management, { config });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      chaos.clearAll('shutting down');
      clearInterval(recountTimer);
      clearInterval(reconcileTimer);
      verifier.close();
      cleanup.close();
      migrationRunner.stop();
      await app.close();
      await management.close();
      await database.close().catch(() => undefined);
      await storage.close();
    })();
    return closing;
  };

  const runReconcile = async (options: { graceMs?: number; dryRun?: boolean } = {}) => {
    await ready;
    const graceMs = options.graceMs ?? config.RECONCILE_GRACE_SECONDS * 1000;
    const dryRun = options.dryRun ?? false;
    const report = await reconcile({ repository, storage, logger, graceMs, dryRun });
    const temporaryFilesRemoved =
      config.STORAGE_DRIVER === 'local' && !dryRun ? await purgeStaleTempFiles(config.STORAGE_LOCAL_DIR, new Date(Date.now() - graceMs)) : 0;
    metrics.storedTotal.set(await repository.countVisible());
    return { ...report, temporaryFilesRemoved };
  };

  // One machine has no CronJob: reconcile in process (default on with local storage, see config.ts).
  const reconcileEverySeconds = config.RECONCILE_INTERVAL_SECONDS ?? (config.STORAGE_DRIVER === 'local' ? 3600 : 0);
  const reconcileTimer =
    reconcileEverySeconds > 0
      ? setInterval(() => {
          runReconcile().then(
            (report) => logger.info({ reconcile: report }, 'periodic reconcile done'),
            (err: unknown) => logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'periodic reconcile failed; will retry'),
          );
        }, reconcileEverySeconds * 1000)
      : undefined;
  reconcileTimer?.unref();

  return {
    app,
    management,
    platform,
    metrics,
    database,
    repository,
    storage,
    cleanup,
    work,
    ready,
    reconcile: runReconcile,
    close,
  };
}
