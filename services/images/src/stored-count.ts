import type { MigrationRunner } from '@sre/platform/db';
import type { ImagesMetrics } from './metrics.js';
import type { ImageRepository } from './repository.js';

export interface StoredCount {
  /** Resolves when migrations are applied and the gauge holds the first count. */
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * images_stored: recounted from the database every minute (so replicas agree), moved by this
 * instance's own uploads and deletes in between.
 */
export function trackStoredCount(repository: ImageRepository, migrations: MigrationRunner, metrics: ImagesMetrics): StoredCount {
  const recount = async () => {
    if (migrations.isDone()) metrics.storedTotal.set(await repository.countVisible());
  };
  const timer = setInterval(() => void recount().catch(() => undefined), 60_000);
  timer.unref();
  return {
    ready: migrations.done.then(() => recount().catch(() => undefined)),
    stop: () => clearInterval(timer),
  };
}
