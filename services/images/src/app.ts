import multipart from '@fastify/multipart';
import {
  AppError,
  createAccessTokenVerifier,
  createHttpApp,
  createManagementApp,
  createPlatform,
  errorBody,
  installChaos,
  remoteKeySource,
  type Platform,
} from '@sre/platform';
import { isDatabaseUnavailable, openDatabase, runMigrationsWithRetry, type Database } from '@sre/platform/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import sharp from 'sharp';
import { authenticate } from './auth.js';
import type { Config } from './config.js';
import { DB_SCHEMA, migrations, type ImagesDatabase } from './db.js';
import { imagesErrors } from './errors.js';
import { contentDisposition, decodeCursor, encodeCursor, ifNoneMatchHits, isUuid, sanitiseFilename } from './http-utils.js';
import { CleanupQueue, instrumentStorage } from './instrumented-storage.js';
import { AdmissionLimit, Semaphore } from './limiter.js';
import { createImagesMetrics, type ImagesMetrics, type UploadResult } from './metrics.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import { ImageRepository, type ImageRow } from './repository.js';
import { ImageService, toView, UPLOAD_STEPS, type UploadStep } from './service.js';
import { BucketMissingError, createStorage, ObjectNotFoundError, StorageUnavailableError, type ObjectStorage } from './storage/index.js';
import { purgeStaleTempFiles } from './storage/local.js';
import { classifyMultipartError, receiveSingleFile } from './upload.js';

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

const CACHE_CONTROL = 'private, no-cache';

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
    pgliteDataDir: config.PGLITE_DATA_DIR === ':memory:' ? undefined : config.PGLITE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  const migrationRunner = runMigrationsWithRetry(database, migrations, { logger, tableSchema: DB_SCHEMA });
  const repository = new ImageRepository(database.db);

  // Fault drills and crash tests (FAULT_INJECTION=true only): the upload step to hold uploads at,
  // for up to a minute, so a test can SIGKILL the process there (test/crash-steps.test.ts).
  let stallAt: UploadStep | undefined;
  const holdAt = async (step: UploadStep) => {
    for (let i = 0; stallAt === step && i < 600; i++) await new Promise((r) => setTimeout(r, 100));
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

  const app = createHttpApp(platform, { config, classifyError });
  await app.register(multipart, { throwFileSizeLimit: true });

  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(verifier));
    api.addHook('preHandler', async () => {
      if (!migrationRunner.isDone()) throw imagesErrors.IMAGES_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
    });

    api.post('/', async (request, reply) => {
      const release = admission.tryAcquire();
      if (!release) {
        metrics.uploadsTotal.inc({ result: 'busy' });
        throw imagesErrors.IMAGES_BUSY(undefined, { headers: { 'retry-after': '1', connection: 'close' } });
      }
      metrics.uploadsInFlight.set(admission.inFlight);
      try {
        const { filename, bytes } = await receiveSingleFile(request, config.UPLOAD_MAX_BYTES);
        metrics.uploadBytes.observe(bytes.length);
        if (bytes.length === 0) throw imagesErrors.IMAGES_EMPTY_FILE();
        const row = await service.upload(request.ownerId, sanitiseFilename(filename), bytes);
        metrics.uploadsTotal.inc({ result: 'success' });
        request.log.info({ imageId: row.id, sizeBytes: row.size_bytes, contentType: row.content_type }, 'image stored');
        return reply.code(201).send(toView(row));
      } catch (err) {
        metrics.uploadsTotal.inc({ result: uploadResult(err) });
        throw err;
      } finally {
        release();
        metrics.uploadsInFlight.set(admission.inFlight);
      }
    });

    api.get('/', async (request) => {
      const query = request.query as Record<string, unknown>;
      const limit = parseLimit(query.limit, config.LIST_DEFAULT_LIMIT, config.LIST_MAX_LIMIT);
      let after: { createdAt: Date; id: string } | undefined;
      if (query.cursor !== undefined) {
        after = typeof query.cursor === 'string' ? decodeCursor(query.cursor) : undefined;
        if (!after) throw imagesErrors.IMAGES_INVALID_QUERY('The cursor is invalid.');
      }
      const rows = await repository.listVisible(request.ownerId, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { items: page.map(toView), nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
    });

    const findOwn = async (request: FastifyRequest): Promise<ImageRow> => {
      const { id } = request.params as { id: string };
      if (!isUuid(id)) throw imagesErrors.IMAGES_INVALID_ID();
      // Another user's image is "not found": never 403, which would confirm that it exists.
      const row = await repository.findVisible(request.ownerId, id.toLowerCase());
      if (!row) throw imagesErrors.IMAGES_NOT_FOUND();
      return row;
    };

    api.get('/:id', async (request) => toView(await findOwn(request)));

    const serveObject = (which: 'original' | 'thumbnail') => async (request: FastifyRequest, reply: FastifyReply) => {
      const row = await findOwn(request);
      const etag = which === 'original' ? row.etag : row.thumbnail_etag;
      void reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('vary', 'Authorization');
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      let object;
      try {
        object = await storage.get(which === 'original' ? row.original_key : row.thumbnail_key);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
        request.log.error({ imageId: row.id, which }, 'visible image is missing its object; run reconcile');
        throw imagesErrors.IMAGES_NOT_FOUND();
      }
      const filename = which === 'original' ? row.filename : `${row.filename.replace(/\.[^.]*$/, '')}.thumbnail.webp`;
      return reply
        .header('content-type', which === 'original' ? row.content_type : 'image/webp')
        .header('content-length', String(which === 'original' ? row.size_bytes : row.thumbnail_size_bytes))
        .header('content-disposition', contentDisposition('inline', filename))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(object.body);
    };
    api.get('/:id/content', serveObject('original'));
    api.get('/:id/thumbnail', serveObject('thumbnail'));

    api.delete('/:id', async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!isUuid(id)) throw imagesErrors.IMAGES_INVALID_ID();
      await service.delete(request.ownerId, id.toLowerCase());
      return reply.code(204).send();
    });
  });

  const management = createManagementApp(platform, {
    register: config.FAULT_INJECTION
      ? (scope) => {
          // Fault drills only (FAULT_INJECTION=true): hold uploads at one step (UPLOAD_STEPS); without
          // `at`, between writing the objects and inserting the row (what the drills use).
          scope.post('/fault/stall-uploads', async (request, reply) => {
            const body = request.body as { enabled?: unknown; at?: unknown } | undefined;
            const at = body?.at ?? 'objects-stored';
            if (!UPLOAD_STEPS.includes(at as UploadStep)) {
              const e = imagesErrors.IMAGES_FAULT_INVALID_STEP(`Unknown upload step '${String(at)}'; known: ${UPLOAD_STEPS.join(', ')}.`);
              return reply.code(e.statusCode).send(errorBody(e.code, e.message, request.id));
            }
            stallAt = body?.enabled === true ? (at as UploadStep) : undefined;
            return { stallUploads: stallAt !== undefined, at: stallAt ?? null };
          });
        }
      : undefined,
  });

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

/** Infrastructure failures become catalogued 503s; everything else keeps the platform's mapping. */
function classifyError(err: unknown): AppError | undefined {
  if (err instanceof StorageUnavailableError) return imagesErrors.IMAGES_STORAGE_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
  if (isDatabaseUnavailable(err)) return imagesErrors.IMAGES_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
  // A body Fastify has no parser for (image/png, text/plain): the only body this service takes is
  // an upload, so say how to send one.
  if ((err as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return imagesErrors.IMAGES_MULTIPART_REQUIRED();
  const multipartError = classifyMultipartError(err);
  return multipartError instanceof AppError ? multipartError : undefined;
}

function uploadResult(err: unknown): UploadResult {
  const e = err instanceof AppError ? err : classifyError(err);
  switch (e?.code) {
    case 'IMAGES_TOO_LARGE':
      return 'too_large';
    case 'IMAGES_UNSUPPORTED_TYPE':
      return 'unsupported_type';
    case 'IMAGES_TOO_MANY_PIXELS':
      return 'too_many_pixels';
    case 'IMAGES_INVALID_IMAGE':
      return 'invalid_image';
    case 'IMAGES_STORAGE_UNAVAILABLE':
      return 'storage_unavailable';
    case 'IMAGES_DB_UNAVAILABLE':
      return 'db_unavailable';
    case undefined:
      return 'error';
    default:
      return e && e.statusCode < 500 ? 'bad_request' : 'error';
  }
}

function parseLimit(raw: unknown, defaultLimit: number, maxLimit: number): number {
  if (raw === undefined) return defaultLimit;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw)) throw imagesErrors.IMAGES_INVALID_QUERY('limit must be an integer.');
  const limit = Number(raw);
  if (limit < 1 || limit > maxLimit) throw imagesErrors.IMAGES_INVALID_QUERY(`limit must be between 1 and ${maxLimit}.`);
  return limit;
}
