import { defineErrorCatalogue } from '@sre/platform';

/** The gateway's own error codes; everything else is the upstream's answer, passed through unchanged. */
export const gatewayErrors = defineErrorCatalogue({
  GATEWAY_NON_CANONICAL_PATH: { status: 400, message: 'The request path is not in canonical form.' },
  GATEWAY_UNAUTHORIZED: { status: 401, message: 'A valid access token is required.' },
  GATEWAY_RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  GATEWAY_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  GATEWAY_UPSTREAM_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable; retry shortly.' },
  GATEWAY_UPSTREAM_TIMEOUT: { status: 504, message: 'The service took too long to answer.' },
});
