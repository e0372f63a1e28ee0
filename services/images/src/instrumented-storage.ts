import type { Logger } from '@sre/platform';
import type { ImagesMetrics } from './metrics.js';
import { ObjectNotFoundError, type ListedObject, type ObjectStorage, type StoredObject } from './storage/index.js';

/** Times every storage call into images_storage_operation_duration_seconds{operation,result}. */
export function instrumentStorage(storage: ObjectStorage, metrics: ImagesMetrics): ObjectStorage {
  const timed = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    const end = metrics.storageDuration.startTimer({ operation });
    try {
      const value = await fn();
      end({ result: 'ok' });
      return value;
    } catch (err) {
      end({ result: err instanceof ObjectNotFoundError ? 'not_found' : 'error' });
      throw err;
    }
  };
  return {
    kind: storage.kind,
    location: storage.location,
    ensureBucket: (create) => timed('ensure_bucket', () => storage.ensureBucket(create)),
    check: (signal) => timed('check', () => storage.check(signal)),
    put: (key, body, contentType) => timed('put', () => storage.put(key, body, contentType)),
    get: (key): Promise<StoredObject> => timed('get', () => storage.get(key)),
    exists: (key) => timed('exists', () => storage.exists(key)),
    delete: (key) => timed('delete', () => storage.delete(key)),
    list: (prefix): AsyncIterable<ListedObject> => storage.list(prefix),
    close: () => storage.close(),
  };
}

/**
 * Objects whose deletion failed (storage down in the middle of an upload or a delete) are retried
 * in the background until storage is back, so a transient outage leaves no orphans without anyone
 * running the reconciler. A crash loses this list: that is what `reconcile` is for.
 */
export class CleanupQueue {
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly logger: Logger,
    private readonly metrics: ImagesMetrics,
    private readonly retryMs: number,
  ) {}

  get size(): number {
    return this.#pending.size;
  }

  /** Deletes now; keys that fail stay queued for retry. Never throws. */
  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.storage.delete(key);
        this.#pending.delete(key);
      } catch (err) {
        this.#pending.add(key);
        this.logger.warn({ key, reason: (err as Error).message }, 'object delete failed; will retry');
      }
    }
    this.metrics.cleanupPending.set(this.#pending.size);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#pending.size === 0 || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.retryNow();
    }, this.retryMs);
    this.#timer.unref();
  }

  async retryNow(): Promise<void> {
    this.#running ??= this.delete([...this.#pending]).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
