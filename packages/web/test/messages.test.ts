import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageFor } from '../src/messages.js';

// That every catalogued error code has a message is checked in tools/docs/test/web-messages.test.ts:
// the web app is a package and does not import the services (imports run tools → services → packages).

describe('web app error messages', () => {
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
