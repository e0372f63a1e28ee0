import { randomUUID } from 'node:crypto';
import type { Logger } from '@sre/platform';
import type { Config } from './config.js';
import { imagesErrors } from './errors.js';
import { etagOf } from './http-utils.js';
import type { CleanupQueue } from './instrumented-storage.js';
import type { Semaphore } from './limiter.js';
import type { ImagesMetrics } from './metrics.js';
import { InvalidImageError, processImage, TooManyPixelsError } from './processing.js';
import type { ImageRepository, ImageRow } from './repository.js';
import { sniffImageType } from './sniff.js';
import type { ImageView } from './schemas.js';
import { objectKeys, type ObjectStorage } from './storage/index.js';

export type { ImageView } from './schemas.js';

export const toView = (row: ImageRow): ImageView => ({
  id: row.id,
  filename: row.filename,
  contentType: row.content_type,
  width: row.width,
  height: row.height,
  sizeBytes: row.size_bytes,
  createdAt: row.created_at.toISOString(),
});

export interface ImageServiceDeps {
  config: Config;
  repository: ImageRepository;
  storage: ObjectStorage;
  cleanup: CleanupQueue;
  work: Semaphore;
  metrics: ImagesMetrics;
  logger: Logger;
  /**
   * Fault drills and crash tests only (FAULT_INJECTION=true, never set in production): awaited at
   * each step of an upload, so a test can hold an upload there and SIGKILL the process.
   */
  atUploadStep?: (step: UploadStep) => Promise<void>;
}

/**
 * The steps of an upload a crash test can stop at, in order. `temp-written` is inside local
 * storage (the original's `.tmp/*.part` is written, not yet renamed); the others are between the
 * service's own calls. `row-inserted` is after the commit point: the upload is complete.
 */
export const UPLOAD_STEPS = ['temp-written', 'original-stored', 'objects-stored', 'row-inserted'] as const;
export type UploadStep = (typeof UPLOAD_STEPS)[number];

/**
 * The upload and delete protocols (README.md#consistency-model):
 * - upload: validate → process → write both objects → insert the row (the commit point). Any failure
 *   before the commit deletes the objects (retried in the background if storage is down).
 * - delete: mark the row deleting (it disappears at once) → delete objects → delete the row. A
 *   failure leaves an invisible tombstone that a retried DELETE or the reconciler finishes; no visible
 *   row ever points at a missing object.
 */
export class ImageService {
  constructor(private readonly deps: ImageServiceDeps) {}

  async upload(ownerId: string, filename: string, bytes: Buffer): Promise<ImageRow> {
    const { config, metrics } = this.deps;
    const sniffed = await sniffImageType(bytes);
    if (!sniffed.ok) throw imagesErrors.IMAGES_UNSUPPORTED_TYPE(undefined, { cause: new Error(sniffed.reason) });

    metrics.processingQueued.set(this.deps.work.queued + 1);
    const processed = await this.deps.work
      .run(async () => {
        metrics.processingQueued.set(this.deps.work.queued);
        metrics.processingActive.set(this.deps.work.active);
        try {
          return await processImage(bytes, sniffed.type, {
            maxPixels: config.IMAGE_MAX_PIXELS,
            thumbnailMaxEdgePx: config.THUMBNAIL_MAX_EDGE_PX,
            observe: (operation, seconds) => metrics.processingDuration.observe({ operation }, seconds),
          });
        } finally {
          metrics.processingActive.set(this.deps.work.active - 1);
        }
      })
      .catch((err: unknown) => {
        if (err instanceof TooManyPixelsError) throw imagesErrors.IMAGES_TOO_MANY_PIXELS(undefined, { cause: err });
        if (err instanceof InvalidImageError) throw imagesErrors.IMAGES_INVALID_IMAGE(undefined, { cause: err });
        throw err;
      });

    const id = randomUUID();
    const row = {
      id,
      owner_id: ownerId,
      filename,
      content_type: processed.contentType,
      width: processed.width,
      height: processed.height,
      size_bytes: processed.original.length,
      etag: etagOf(processed.original),
      original_key: objectKeys.original(ownerId, id),
      thumbnail_key: objectKeys.thumbnail(ownerId, id),
      thumbnail_size_bytes: processed.thumbnail.length,
      thumbnail_etag: etagOf(processed.thumbnail),
      // Millisecond precision on purpose: the list cursor carries a JS Date.
      created_at: new Date(),
    };
    const keys = [row.original_key, row.thumbnail_key];
    try {
      await this.deps.storage.put(row.original_key, processed.original, row.content_type);
      await this.deps.atUploadStep?.('original-stored');
      await this.deps.storage.put(row.thumbnail_key, processed.thumbnail, 'image/webp');
      await this.deps.atUploadStep?.('objects-stored');
      await this.deps.repository.insert(row);
    } catch (err) {
      await this.deps.cleanup.delete(keys);
      throw err;
    }
    await this.deps.atUploadStep?.('row-inserted');
    metrics.storedTotal.inc();
    return { ...row, deleting_at: null };
  }

  async delete(ownerId: string, id: string): Promise<void> {
    const marked = await this.deps.repository.markDeleting(ownerId, id);
    if (!marked) throw imagesErrors.IMAGES_NOT_FOUND();
    const { row } = marked;
    // Objects first: if storage fails here the row stays a tombstone (invisible) and a retried
    // DELETE, or the reconciler, finishes the job. Deleting is idempotent.
    await this.deps.storage.delete(row.original_key);
    await this.deps.storage.delete(row.thumbnail_key);
    await this.deps.repository.remove(row.id);
    if (marked.hidNow) this.deps.metrics.storedTotal.dec();
  }
}
