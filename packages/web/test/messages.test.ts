import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { platformErrors } from '@sre/platform';
import { authErrors } from '../../../services/auth/src/errors.js';
import { gatewayErrors } from '../../../services/gateway/src/errors.js';
import { imagesErrors } from '../../../services/images/src/errors.js';
import { MESSAGES, messageFor } from '../src/messages.js';

describe('web app error messages', () => {
  const catalogues = {
    auth: authErrors.catalogue,
    images: imagesErrors.catalogue,
    gateway: gatewayErrors.catalogue,
    platform: platformErrors,
  };

  for (const [service, catalogue] of Object.entries(catalogues)) {
    it(`has a message of its own for every ${service} error code`, () => {
      const missing = Object.keys(catalogue).filter((code) => !(code in MESSAGES));
      assert.deepEqual(missing, [], `add these codes to packages/web/src/messages.ts`);
    });
  }

  it('says what went wrong for the errors users meet most', () => {
    assert.match(messageFor({ status: 413, code: 'IMAGES_TOO_LARGE' }), /too large/);
    assert.match(messageFor({ status: 415, code: 'IMAGES_UNSUPPORTED_TYPE' }), /not supported.*JPEG, PNG, WebP, GIF or AVIF/);
    assert.match(messageFor({ status: 503, code: 'GATEWAY_UPSTREAM_UNAVAILABLE' }), /temporarily unavailable/);
    assert.match(messageFor({ status: 0, code: 'NETWORK_ERROR' }), /Cannot reach the server/);
  });

  it('tells how long to wait when rate limited', () => {
    assert.equal(messageFor({ status: 429, code: 'GATEWAY_RATE_LIMITED', retryAfterSec: 30 }), 'Too many requests. Please try again in 30 seconds.');
    assert.equal(messageFor({ status: 429, code: 'AUTH_THROTTLED', retryAfterSec: 120 }), 'Too many failed log-ins. Please try again in 2 minutes.');
  });

  it('falls back on the HTTP status for codes it does not know', () => {
    assert.match(messageFor({ status: 503, code: 'SOMETHING_NEW' }), /temporarily unavailable/);
    assert.match(messageFor({ status: 418, code: 'TEAPOT' }), /Something went wrong \(TEAPOT\)/);
  });
});
