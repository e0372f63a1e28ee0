import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, errors, type AppError } from './errors.js';
import { requestIdFrom } from './logging.js';

/**
 * Answers given before Fastify has a request object: Node's parser refusing the bytes
 * ('clientError': bad request line, header block over the limit, slow client) and an `Expect` other
 * than 100-continue ('checkExpectation'). Node's and Fastify's defaults answer these without the
 * one error shape, a request id or security headers (issue 15, item 2); these give all three.
 */

/**
 * Headers on every answer the platform writes outside Fastify's hooks (so without the gateway's
 * helmet): the strictest set that fits a JSON error body.
 */
export const FRAMEWORK_ERROR_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function clientErrorFor(code: string | undefined): AppError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.REQUEST_TIMEOUT();
  if (code === 'HPE_HEADER_OVERFLOW') return errors.HEADERS_TOO_LARGE();
  return errors.MALFORMED_REQUEST();
}

/** Fastify `clientErrorHandler`: same cases as its default, in our shape. */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset socket has nobody to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = clientErrorFor(err.code);
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(e.code, e.message, requestId));
  const headers = {
    ...FRAMEWORK_ERROR_HEADERS,
    'x-request-id': requestId,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  if (socket.writable) {
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.write(`HTTP/1.1 ${e.statusCode} ${STATUS_CODES[e.statusCode] ?? 'Error'}\r\n${head}\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Node's 'checkExpectation' listener: 417 in our shape instead of Node's bare one. */
export function answerUnsupportedExpectation(req: IncomingMessage, res: ServerResponse): void {
  const e = errors.EXPECTATION_FAILED();
  const requestId = requestIdFrom(req);
  res.writeHead(e.statusCode, {
    ...FRAMEWORK_ERROR_HEADERS,
    'x-request-id': requestId,
    'content-type': 'application/json; charset=utf-8',
    connection: 'close',
  });
  res.end(JSON.stringify(errorBody(e.code, e.message, requestId)));
}
