import { AppError } from '@sre/platform';
import { isDatabaseUnavailable } from '@sre/platform/db';
import { imagesErrors } from './errors.js';
import type { UploadResult } from './metrics.js';
import { StorageUnavailableError } from './storage/index.js';
import { classifyMultipartError } from './upload.js';

/** Infrastructure failures become catalogued 503s; everything else keeps the platform's mapping. */
export function classifyError(err: unknown): AppError | undefined {
  if (err instanceof StorageUnavailableError) return imagesErrors.IMAGES_STORAGE_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
  if (isDatabaseUnavailable(err)) return imagesErrors.IMAGES_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '5' } });
  // A body Fastify has no parser for (image/png, text/plain): the only body this service takes is
  // an upload, so say how to send one.
  if ((err as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return imagesErrors.IMAGES_MULTIPART_REQUIRED();
  const multipartError = classifyMultipartError(err);
  return multipartError instanceof AppError ? multipartError : undefined;
}

/** The `result` label of images_uploads_total for a failed upload. */
export function uploadResult(err: unknown): UploadResult {
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
