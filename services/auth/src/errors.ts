import { defineErrorCatalogue } from '@sre/platform';

/** Auth's stable error codes (README "Error codes"); the platform adds VALIDATION_FAILED & co. */
export const authErrors = defineErrorCatalogue({
  AUTH_EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists.' },
  AUTH_EMAIL_INVALID: { status: 400, message: 'The email address is not valid.' },
  AUTH_EMAIL_MIXED_SCRIPT: {
    status: 400,
    message: 'The part before @ mixes alphabets (for example Latin and Cyrillic letters), as look-alike addresses do; use one alphabet.',
  },
  AUTH_PASSWORD_POLICY: { status: 400, message: 'The password must be 8 to 128 characters long.' },
  AUTH_PASSWORD_BLANK: { status: 400, message: 'The password cannot be only spaces.' },
  AUTH_PASSWORD_COMMON: { status: 400, message: 'This password is one of the most common ones (found in breached-password lists); choose another.' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'The email or password is wrong.' },
  AUTH_TOKEN_MISSING: { status: 401, message: 'A Bearer access token is required.' },
  AUTH_TOKEN_EXPIRED: { status: 401, message: 'The access token has expired; refresh it.' },
  AUTH_TOKEN_INVALID: { status: 401, message: 'The access token is invalid.' },
  AUTH_REFRESH_INVALID: { status: 401, message: 'The refresh token is invalid, expired or already used; log in again.' },
  AUTH_THROTTLED: { status: 429, message: 'Too many failed logins; retry later.' },
  AUTH_RATE_LIMITED: { status: 429, message: 'Too many sign-up or login attempts from this address; retry later.' },
  AUTH_DB_UNAVAILABLE: { status: 503, message: 'The account database is unavailable; retry later.' },
});
