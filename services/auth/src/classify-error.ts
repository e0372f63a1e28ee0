import type { ErrorClassifier } from '@sre/platform';
import { isDatabaseUnavailable } from '@sre/platform/db';
import { authErrors } from './errors.js';

/** A database that does not answer is a catalogued 503 the client may retry, never a 500. */
export const classifyError: ErrorClassifier = (err) =>
  isDatabaseUnavailable(err) ? authErrors.AUTH_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '1' } }) : undefined;
