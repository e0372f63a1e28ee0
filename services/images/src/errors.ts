import { defineErrorCatalogue } from '@sre/platform';

/** Every error the Images service answers with (README.md#error-codes). */
export const imagesErrors = defineErrorCatalogue({
  IMAGES_UNAUTHORIZED: { status: 401, message: 'A valid access token is required.' },
  IMAGES_AUTH_UNAVAILABLE: { status: 503, message: 'Token signing keys are not available yet; retry.' },
  IMAGES_INVALID_ID: { status: 400, message: 'The image id is malformed.' },
  IMAGES_INVALID_QUERY: { status: 400, message: 'The query parameters are invalid.' },
  IMAGES_MULTIPART_REQUIRED: { status: 415, message: 'Upload with Content-Type multipart/form-data.' },
  IMAGES_FILE_MISSING: { status: 400, message: 'The request has no part named "file".' },
  IMAGES_UNEXPECTED_PART: { status: 400, message: 'Send exactly one part, a file named "file".' },
  IMAGES_MALFORMED_UPLOAD: { status: 400, message: 'The multipart body is malformed or incomplete.' },
  IMAGES_EMPTY_FILE: { status: 400, message: 'The file is empty.' },
  IMAGES_TOO_LARGE: { status: 413, message: 'The file is larger than the allowed maximum.' },
  IMAGES_UNSUPPORTED_TYPE: { status: 415, message: 'Only JPEG, PNG, WebP, GIF and AVIF images are accepted.' },
  IMAGES_TOO_MANY_PIXELS: { status: 422, message: 'The image has more pixels than allowed.' },
  IMAGES_INVALID_IMAGE: { status: 422, message: 'The image is corrupt or truncated.' },
  IMAGES_NOT_FOUND: { status: 404, message: 'No such image.' },
  IMAGES_BUSY: { status: 503, message: 'Too many uploads in progress; retry shortly.' },
  IMAGES_STORAGE_UNAVAILABLE: { status: 503, message: 'Object storage is unavailable; retry later.' },
  IMAGES_DB_UNAVAILABLE: { status: 503, message: 'The database is unavailable; retry later.' },
  IMAGES_FAULT_INVALID_STEP: { status: 400, message: 'Unknown upload step for the stall (test-only route).' },
});

export type ImagesErrorCode = Exclude<keyof typeof imagesErrors, 'catalogue'>;
