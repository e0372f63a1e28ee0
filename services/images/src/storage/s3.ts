import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BucketMissingError, ObjectNotFoundError, StorageUnavailableError, type ListedObject, type ObjectStorage, type StoredObject } from './types.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/**
 * S3 and S3-compatible servers (MinIO, Ceph RGW, s3rver in tests). Checksums are computed only
 * when an operation requires them: since SDK 3.729 the default is to send CRC32 trailers in
 * aws-chunked bodies, which many S3-compatible servers (s3rver, older MinIO, Ceph) reject.
 */
export class S3Storage implements ObjectStorage {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: S3StorageOptions) {
    this.#bucket = options.bucket;
    this.location = `s3://${options.bucket}${options.endpoint ? ` at ${new URL(options.endpoint).host}` : ` in ${options.region}`}`;
    this.#client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      maxAttempts: options.maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: Math.min(options.requestTimeoutMs, 3000),
        requestTimeout: options.requestTimeoutMs,
      },
    });
  }

  async ensureBucket(create: boolean): Promise<void> {
    try {
      await this.check();
      return;
    } catch (err) {
      if (!(err instanceof BucketMissingError) || !create) throw err;
    }
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }));
    } catch (err) {
      // Another replica created it first.
      if (err instanceof S3ServiceException && (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists')) return;
      throw unavailable('create bucket', err);
    }
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }), signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (isNotFound(err)) throw new BucketMissingError(this.location);
      throw unavailable('head bucket', err);
    }
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    // lib-storage sends one PutObject below partSize and a multipart upload above it, aborting the
    // multipart upload on failure (leavePartsOnError=false) so no parts are billed forever.
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      throw unavailable('put', err);
    }
  }

  async get(key: string): Promise<StoredObject> {
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!(res.Body instanceof Readable)) throw new Error('unexpected body type');
      return { body: res.Body, contentLength: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw unavailable('get', err);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw unavailable('head', err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw unavailable('delete', err);
    }
  }

  async *list(prefix = ''): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: 1000 }),
        );
      } catch (err) {
        throw unavailable('list', err);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, lastModified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Anything but "not found" means the service cannot use storage now: network errors, 5xx,
 * throttling, and also 403 (wrong credentials or policy), which no retry by the user will fix but
 * which is still the operator's problem, not the user's.
 */
function unavailable(operation: string, err: unknown): StorageUnavailableError {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const detail = [e?.name, e?.code, e?.$metadata?.httpStatusCode].filter(Boolean).join(' ');
  return new StorageUnavailableError(`S3 ${operation} failed: ${detail || e?.message || 'unknown error'}`, { cause: err });
}
