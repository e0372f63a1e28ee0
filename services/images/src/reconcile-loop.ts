import type { Logger } from '@sre/platform';
import type { Config } from './config.js';
import type { ImagesMetrics } from './metrics.js';
import { reconcile, type ReconcileReport } from './reconcile.js';
import type { ImageRepository } from './repository.js';
import { purgeStaleTempFiles } from './storage/local.js';
import type { ObjectStorage } from './storage/index.js';

export interface ReconcileRunOptions {
  graceMs?: number;
  dryRun?: boolean;
}

export type ReconcileRunReport = ReconcileReport & { temporaryFilesRemoved: number };

export interface Reconciler {
  /** Reconciles storage and rows, and (local storage) purges stale temporary files. */
  run(options?: ReconcileRunOptions): Promise<ReconcileRunReport>;
  /** Stops the periodic run; a run in progress finishes on its own. */
  stop(): void;
}

export interface ReconcilerDeps {
  config: Config;
  repository: ImageRepository;
  storage: ObjectStorage;
  metrics: ImagesMetrics;
  logger: Logger;
  /** Runs wait for this (migrations applied). */
  ready: Promise<void>;
}

/**
 * The reconcile (reconcile.ts) as `node dist/main.js reconcile` and the periodic in-process run use
 * it. One machine has no CronJob: reconcile in process (default on with local storage, see config.ts).
 */
export function startReconciler(deps: ReconcilerDeps): Reconciler {
  const { config, repository, storage, metrics, logger } = deps;
  const run = async (options: ReconcileRunOptions = {}): Promise<ReconcileRunReport> => {
    await deps.ready;
    const graceMs = options.graceMs ?? config.RECONCILE_GRACE_SECONDS * 1000;
    const dryRun = options.dryRun ?? false;
    const report = await reconcile({ repository, storage, logger, graceMs, dryRun });
    const temporaryFilesRemoved =
      config.STORAGE_DRIVER === 'local' && !dryRun ? await purgeStaleTempFiles(config.STORAGE_LOCAL_DIR, new Date(Date.now() - graceMs)) : 0;
    metrics.storedTotal.set(await repository.countVisible());
    return { ...report, temporaryFilesRemoved };
  };

  const everySeconds = config.RECONCILE_INTERVAL_SECONDS ?? (config.STORAGE_DRIVER === 'local' ? 3600 : 0);
  const timer =
    everySeconds > 0
      ? setInterval(() => {
          run().then(
            (report) => logger.info({ reconcile: report }, 'periodic reconcile done'),
            (err: unknown) => logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'periodic reconcile failed; will retry'),
          );
        }, everySeconds * 1000)
      : undefined;
  timer?.unref();
  return { run, stop: () => clearInterval(timer) };
}
