import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * One error shape for every service: {"error":{"code","message","requestId"}}.
 * Each service lists its own codes in one catalogue (see `defineErrorCatalogue`).
 */

export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: string, statusCode: number, message: string, options?: { headers?: Record<string, string>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = statusCode;
    this.headers = options?.headers ?? {};
  }
}

/** Codes shared by every service: request-shape problems the platform itself detects. */
export const platformErrors = {
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid.' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not valid HTTP.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  EMPTY_BODY: { status: 400, message: 'The request body is empty.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'This content type is not accepted here.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  URI_TOO_LONG: { status: 414, message: 'The request URL is too long.' },
  BAD_URL: { status: 400, message: 'The request URL is not valid (bad percent-encoding or characters).' },
  FORBIDDEN: { status: 403, message: 'This path cannot be served.' },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed.' },
  NOT_ACCEPTABLE: { status: 406, message: 'No representation matches the Accept headers.' },
  PRECONDITION_FAILED: { status: 412, message: 'A precondition header did not match.' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested range is not satisfiable.' },
  EXPECTATION_FAILED: { status: 417, message: 'Only "Expect: 100-continue" is supported.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.' },
  SERVICE_DRAINING: { status: 503, message: 'The service is shutting down; retry.' },
  INTERNAL: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorFactory = (message?: string, options?: { headers?: Record<string, string>; cause?: unknown }) => AppError;

/**
 * Turns a catalogue into factories: `errors.AUTH_EMAIL_TAKEN()` builds the AppError with the
 * catalogued status and message. The catalogue stays the one place codes and statuses live.
 */
export function defineErrorCatalogue<const C extends Record<string, ErrorDefinition>>(
  catalogue: C,
): {
  readonly [K in keyof C]: ErrorFactory;
} & { readonly catalogue: C } {
  const factories: Record<string, unknown> = { catalogue };
  for (const [code, def] of Object.entries(catalogue)) {
    factories[code] = (message?: string, options?: { headers?: Record<string, string>; cause?: unknown }) =>
      new AppError(code, def.status, message ?? def.message, options);
  }
  return factories as never;
}

export const errors = defineErrorCatalogue(platformErrors);

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

export function errorBody(code: string, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}

/** Maps Fastify's own error codes (body parsing, limits, validation) onto platform codes. */
function fromFastifyError(err: FastifyError): AppError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? errors.UNSUPPORTED_MEDIA_TYPE() : errors.VALIDATION_FAILED('Invalid Content-Length.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.PAYLOAD_TOO_LARGE();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.EMPTY_BODY();
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.MALFORMED_JSON();
    case 'FST_ERR_VALIDATION':
      return errors.VALIDATION_FAILED(`The request is invalid: ${err.message}`);
    default:
      break;
  }
  if (err.validation) return errors.VALIDATION_FAILED(`The request is invalid: ${err.message}`);
  // JSON.parse failures surface as SyntaxError with statusCode 400.
  if (err instanceof SyntaxError && err.statusCode === 400) return errors.MALFORMED_JSON();
  return fromClientErrorStatus(err.statusCode);
}

/**
 * Any other error that carries a 4xx status is the client's, whatever threw it (a plugin such as
 * @fastify/static answers FST_STATIC_FORBIDDEN_PATH with 403, @fastify/send a bad Range with 416):
 * it must answer 4xx in the one shape, never 500 INTERNAL, or anyone could feed the 5xx alerts
 * (issue 15, item 2). Statuses without a code of their own become 400 VALIDATION_FAILED.
 */
function fromClientErrorStatus(status: number | undefined): AppError | undefined {
  if (status === undefined || !Number.isInteger(status) || status < 400 || status > 499) return undefined;
  const byStatus: Record<number, () => AppError> = {
    403: () => errors.FORBIDDEN(),
    404: () => errors.NOT_FOUND(),
    405: () => errors.METHOD_NOT_ALLOWED(),
    406: () => errors.NOT_ACCEPTABLE(),
    408: () => errors.REQUEST_TIMEOUT(),
    412: () => errors.PRECONDITION_FAILED(),
    413: () => errors.PAYLOAD_TOO_LARGE(),
    414: () => errors.URI_TOO_LONG(),
    415: () => errors.UNSUPPORTED_MEDIA_TYPE(),
    416: () => errors.RANGE_NOT_SATISFIABLE(),
    417: () => errors.EXPECTATION_FAILED(),
    429: () => errors.RATE_LIMITED(),
    431: () => errors.HEADERS_TOO_LARGE(),
  };
  return (byStatus[status] ?? (() => errors.VALIDATION_FAILED()))();
}

/** Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`). */
export function fromFrameworkError(err: FastifyError): AppError {
  if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_INVALID_URL') return errors.BAD_URL();
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return errors.URI_TOO_LONG('A path segment is too long.');
  return fromFastifyError(err) ?? errors.INTERNAL();
}

export type ErrorClassifier = (err: unknown) => AppError | undefined;

/**
 * Installs the error and not-found handlers. `classify` lets a service turn its own infrastructure
 * errors (a refused database connection) into catalogued errors such as AUTH_DB_UNAVAILABLE.
 * Stack traces are logged, never sent.
 */
export function installErrorHandling(app: FastifyInstance, classify?: ErrorClassifier): void {
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const e = errors.NOT_FOUND();
    void reply.code(e.statusCode).send(errorBody(e.code, e.message, request.id));
  });
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = err instanceof AppError ? err : (classify?.(err) ?? fromFastifyError(err));
    const appError = known ?? errors.INTERNAL();
    if (appError.statusCode >= 500) {
      request.log.error({ err, code: appError.code }, 'request failed');
    } else {
      request.log.info({ code: appError.code, reason: err.message }, 'request rejected');
    }
    void reply
      .code(appError.statusCode)
      .headers(appError.headers)
      .send(errorBody(appError.code, appError.message, request.id));
  });
}
