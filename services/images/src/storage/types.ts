import type { Readable } from 'node:stream';

/**
 * One interface for object storage, so the service runs on S3-compatible storage in a cluster and on
 * a local directory on one machine. Errors are normalised: a missing object is
 * ObjectNotFoundError; anything that means "cannot reach or use storage now" is
 * StorageUnavailableError (→ 503 IMAGES_STORAGE_UNAVAILABLE).
 */
export interface StoredObject {
  readonly body: Readable;
  readonly contentLength: number;
}

export interface ListedObject {
  readonly key: string;
  readonly lastModified: Date;
}

export interface ObjectStorage {
  readonly kind: 'local' | 's3';
  /** Human-readable location for logs (never credentials). */
  readonly location: string;
  /** Creates the bucket/directory when `create`, else checks it exists (throws BucketMissingError). */
  ensureBucket(create: boolean): Promise<void>;
  /** Readiness: the bucket exists and answers. */
  check(signal?: AbortSignal): Promise<void>;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<StoredObject>;
  exists(key: string): Promise<boolean>;
  /** Idempotent: deleting a missing object succeeds. */
  delete(key: string): Promise<void>;
  list(prefix?: string): AsyncIterable<ListedObject>;
  close(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

export class BucketMissingError extends StorageUnavailableError {
  constructor(location: string) {
    super(`bucket missing: ${location} (set STORAGE_CREATE_BUCKET=true or create it)`);
    this.name = 'BucketMissingError';
  }
}
