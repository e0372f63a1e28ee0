import type { Logger, ReadinessCheck } from '@sre/platform';
import type { Config } from './config.js';
import type { UploadStall } from './fault-routes.js';
import { CleanupQueue, instrumentStorage } from './instrumented-storage.js';
import type { ImagesMetrics } from './metrics.js';
import { BucketMissingError, createStorage, type ObjectStorage } from './storage/index.js';

export interface StorageHandle {
  /** The driver from config (or the one a test passed), with metrics around every call. */
  readonly storage: ObjectStorage;
  /** Deletions that failed, retried in the background. */
  readonly cleanup: CleanupQueue;
  /** The storage readiness check: creates the bucket when allowed and still missing. */
  readonly readinessCheck: ReadinessCheck;
}

export interface StorageOptions {
  /** Replaces the storage built from config (tests wrap a real driver to stop it mid-upload). */
  storage?: ObjectStorage | undefined;
  /** FAULT_INJECTION only: holds uploads after the temporary object is written. */
  stall: UploadStall;
  /** How often failed object deletions are retried (default 5 s). */
  cleanupRetryMs?: number | undefined;
}

/**
 * Opens object storage (local folder or S3, STORAGE_DRIVER) and starts creating the bucket: a
 * storage that is not there yet only makes readiness fail until it is (the check retries).
 */
export async function openStorage(config: Config, logger: Logger, metrics: ImagesMetrics, options: StorageOptions): Promise<StorageHandle> {
  const storage = instrumentStorage(
    options.storage ?? (await createStorage(config, config.FAULT_INJECTION ? { afterTempWritten: () => options.stall.holdAt('temp-written') } : {})),
    metrics,
  );
  const cleanup = new CleanupQueue(storage, logger, metrics, options.cleanupRetryMs ?? 5000);

  const ensureBucket = async () => {
    await storage.ensureBucket(config.STORAGE_CREATE_BUCKET);
  };
  ensureBucket().catch((err: unknown) => logger.warn({ reason: (err as Error).message, storage: storage.location }, 'storage not ready at start'));

  const readinessCheck: ReadinessCheck = {
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
  };
  return { storage, cleanup, readinessCheck };
}
