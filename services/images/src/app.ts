import multipart from '@fastify/multipart';
import { createHttpApp, createManagementApp, createPlatform, installChaos, type Platform } from '@sre/platform';
import { databaseReadinessCheck, type Database } from '@sre/platform/db';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import sharp from 'sharp';
import { createVerifier } from './auth.js';
import { classifyError } from './classify-error.js';
import type { Config } from './config.js';
import type { ImagesDatabase } from './db.js';
import { faultRoutes, UploadStall } from './fault-routes.js';
import type { CleanupQueue } from './instrumented-storage.js';
import { AdmissionLimit, Semaphore } from './limiter.js';
import { createImagesMetrics, type ImagesMetrics } from './metrics.js';
import { openImagesDatabase } from './open-database.js';
import { openStorage } from './open-storage.js';
import { startReconciler, type ReconcileRunOptions, type ReconcileRunReport } from './reconcile-loop.js';
import type { ImageRepository } from './repository.js';
import { imagesRoutes } from './routes.js';
import { ImageService } from './service.js';
import type { ObjectStorage } from './storage/index.js';
import { trackStoredCount } from './stored-count.js';

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
  reconcile(options?: ReconcileRunOptions): Promise<ReconcileRunReport>;
  close(): Promise<void>;
}

/**
 * Builds the Images service without listening; `main.ts` serves it or runs one reconcile. Reads as
 * the table of contents of the service: each line is one concern in its own module.
 */
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
  // PGLITE_DATA_DIR is read in open-database.ts.
  const { database, migrations, repository } = openImagesDatabase(config, logger);
  const stall = new UploadStall();
  const objects = await openStorage(config, logger, metrics, { storage: deps.storage, stall, cleanupRetryMs: deps.cleanupRetryMs });
  const { storage, cleanup } = objects;
  const work = new Semaphore(config.IMAGE_PROCESSING_CONCURRENCY);
  const admission = new AdmissionLimit(config.UPLOAD_MAX_IN_FLIGHT);
  const storedCount = trackStoredCount(repository, migrations, metrics);
  health.addCheck(databaseReadinessCheck(database, migrations));
  health.addCheck(objects.readinessCheck);

  const service = new ImageService({
    config,
    repository,
    storage,
    cleanup,
    work,
    metrics,
    logger,
    ...(config.FAULT_INJECTION ? { atUploadStep: stall.holdAt } : {}),
  });
  const verifier = createVerifier(config, logger, deps.fetchImpl);

  const app = createHttpApp(platform, {
    config,
    classifyError,
    trustProxy: config.TRUST_PROXY,
    openapi: { title: 'Images service', version: '1.0.0', description: "Each user's images: upload, list, read, delete." },
  });
  await app.register(multipart, { throwFileSizeLimit: true });
  await app.register(imagesRoutes({ config, verifier, migrations, admission, service, repository, storage, metrics }));
  // Fault drills and crash tests only (FAULT_INJECTION=true): see fault-routes.ts.
  const management = createManagementApp(platform, config.FAULT_INJECTION ? { register: faultRoutes(stall) } : {});
  // Opt-in drills (CHAOS_ENABLED): readiness, latency, error, CPU and memory faults.
  const chaos = installChaos(platform, app, management, { config });
  const reconciler = startReconciler({ config, repository, storage, metrics, logger, ready: storedCount.ready });

  // One ordered close for main.ts (after the public listener) and tests (docs/shutdown.md): timers
  // and background work first, then the listeners, the database, storage last. Safe to call twice.
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      chaos.clearAll('shutting down');
      storedCount.stop();
      reconciler.stop();
      verifier.close();
      cleanup.close();
      migrations.stop();
      await app.close();
      await management.close();
      await database.close().catch(() => undefined);
      await storage.close();
    })();
    return closing;
  };

  return { app, management, platform, metrics, database, repository, storage, cleanup, work, ready: storedCount.ready, reconcile: reconciler.run, close };
}
