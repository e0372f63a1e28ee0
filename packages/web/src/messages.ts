/**
 * What the user reads for each error code the API can answer with (auth, images, gateway and the
 * platform's shared codes). The test in ../test/messages.test.ts fails when a catalogue gains a
 * code that has no message here.
 */

export interface ApiErrorInfo {
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  code: string;
  message?: string;
  /** Seconds, from Retry-After. */
  retryAfterSec?: number;
}

const SESSION_ENDED = 'Your session has ended. Please log in again.';
const UNAVAILABLE = 'The service is temporarily unavailable. Please try again in a moment.';
const UPLOAD_NOT_UNDERSTOOD = 'The upload was not understood. Please choose the file again.';
const INVALID_REQUEST = 'The request was not accepted. Please check what you entered.';

export const MESSAGES: Readonly<Record<string, string>> = {
  // Auth
  AUTH_EMAIL_TAKEN: 'An account with this email already exists. Log in instead.',
  AUTH_EMAIL_INVALID: 'Please enter a valid email address.',
  AUTH_EMAIL_MIXED_SCRIPT: 'This email mixes letters from different alphabets (for example Latin and Cyrillic). Please type it again in one alphabet.',
  AUTH_PASSWORD_POLICY: 'The password must be 8 to 128 characters long.',
  AUTH_PASSWORD_BLANK: 'The password cannot be only spaces.',
  AUTH_PASSWORD_COMMON: 'This password is too common: it appears in lists of leaked passwords. Please choose another one.',
  AUTH_INVALID_CREDENTIALS: 'Wrong email or password.',
  AUTH_TOKEN_MISSING: SESSION_ENDED,
  AUTH_TOKEN_EXPIRED: SESSION_ENDED,
  AUTH_TOKEN_INVALID: SESSION_ENDED,
  AUTH_REFRESH_INVALID: SESSION_ENDED,
  AUTH_THROTTLED: 'Too many failed log-ins. Please wait before trying again.',
  AUTH_RATE_LIMITED: 'Too many sign-up or log-in attempts. Please wait before trying again.',
  AUTH_DB_UNAVAILABLE: UNAVAILABLE,
  // Images
  IMAGES_UNAUTHORIZED: SESSION_ENDED,
  IMAGES_AUTH_UNAVAILABLE: UNAVAILABLE,
  IMAGES_INVALID_ID: 'This image link is not valid.',
  IMAGES_INVALID_QUERY: INVALID_REQUEST,
  IMAGES_MULTIPART_REQUIRED: UPLOAD_NOT_UNDERSTOOD,
  IMAGES_FILE_MISSING: UPLOAD_NOT_UNDERSTOOD,
  IMAGES_UNEXPECTED_PART: UPLOAD_NOT_UNDERSTOOD,
  IMAGES_MALFORMED_UPLOAD: UPLOAD_NOT_UNDERSTOOD,
  IMAGES_EMPTY_FILE: 'This file is empty.',
  IMAGES_TOO_LARGE: 'This file is too large. The maximum is 10 MB.',
  IMAGES_UNSUPPORTED_TYPE: 'This file type is not supported. Please upload a JPEG, PNG, WebP, GIF or AVIF image.',
  IMAGES_TOO_MANY_PIXELS: 'This image has too many pixels. Please upload a smaller image.',
  IMAGES_INVALID_IMAGE: 'This image is damaged or incomplete and cannot be read.',
  IMAGES_NOT_FOUND: 'This image no longer exists.',
  IMAGES_BUSY: 'Many uploads are in progress. Please try again in a moment.',
  IMAGES_STORAGE_UNAVAILABLE: 'Image storage is temporarily unavailable. Please try again in a moment.',
  IMAGES_DB_UNAVAILABLE: UNAVAILABLE,
  // Management port, test-only route: never reaches the browser; listed because every code has a message.
  IMAGES_FAULT_INVALID_STEP: INVALID_REQUEST,
  // Gateway
  GATEWAY_UNAUTHORIZED: SESSION_ENDED,
  GATEWAY_RATE_LIMITED: 'Too many requests. Please slow down and try again shortly.',
  GATEWAY_PAYLOAD_TOO_LARGE: 'This file is too large. The maximum is 10 MB.',
  GATEWAY_UPSTREAM_UNAVAILABLE: UNAVAILABLE,
  GATEWAY_UPSTREAM_TIMEOUT: 'The service took too long to answer. Please try again.',
  // The web app never builds such paths; a user meets it only through a hand-edited link.
  GATEWAY_NON_CANONICAL_PATH: 'This address is not valid. Please go back and try again.',
  // Platform (shared by every service)
  VALIDATION_FAILED: INVALID_REQUEST,
  MALFORMED_REQUEST: INVALID_REQUEST,
  BAD_URL: INVALID_REQUEST,
  FORBIDDEN: 'This page cannot be shown.',
  NOT_ACCEPTABLE: INVALID_REQUEST,
  PRECONDITION_FAILED: INVALID_REQUEST,
  RANGE_NOT_SATISFIABLE: INVALID_REQUEST,
  EXPECTATION_FAILED: INVALID_REQUEST,
  HEADERS_TOO_LARGE: INVALID_REQUEST,
  MALFORMED_JSON: INVALID_REQUEST,
  EMPTY_BODY: INVALID_REQUEST,
  UNSUPPORTED_MEDIA_TYPE: INVALID_REQUEST,
  PAYLOAD_TOO_LARGE: 'This is too large to send.',
  URI_TOO_LONG: INVALID_REQUEST,
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: INVALID_REQUEST,
  RATE_LIMITED: 'Too many requests. Please slow down and try again shortly.',
  REQUEST_TIMEOUT: 'The request took too long to send. Please try again.',
  SERVICE_DRAINING: UNAVAILABLE,
  INTERNAL: 'Something went wrong on our side. Please try again.',
  // Client side
  NETWORK_ERROR: 'Cannot reach the server. Please check your connection and try again.',
};

const RATE_LIMIT_CODES = new Set(['AUTH_THROTTLED', 'AUTH_RATE_LIMITED', 'GATEWAY_RATE_LIMITED', 'RATE_LIMITED']);

/** The sentence to show for an API error, with the wait time when the server gave one. */
export function messageFor(error: ApiErrorInfo): string {
  const known = MESSAGES[error.code];
  let text = known ?? fallback(error);
  if (RATE_LIMIT_CODES.has(error.code) && error.retryAfterSec !== undefined && error.retryAfterSec > 0) {
    text = `${text.replace(/ Please .*$/, '')} Please try again in ${formatWait(error.retryAfterSec)}.`;
  }
  return text;
}

function fallback(error: ApiErrorInfo): string {
  if (error.status === 0) return MESSAGES.NETWORK_ERROR!;
  if (error.status === 401) return SESSION_ENDED;
  if (error.status === 413) return MESSAGES.IMAGES_TOO_LARGE!;
  if (error.status === 415) return MESSAGES.IMAGES_UNSUPPORTED_TYPE!;
  if (error.status === 429) return MESSAGES.RATE_LIMITED!;
  if (error.status === 502 || error.status === 503) return UNAVAILABLE;
  if (error.status === 504) return MESSAGES.GATEWAY_UPSTREAM_TIMEOUT!;
  return `Something went wrong (${error.code || `HTTP ${error.status}`}). Please try again.`;
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
