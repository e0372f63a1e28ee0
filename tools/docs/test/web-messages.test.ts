import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authErrors } from '@sre/auth/errors';
import { gatewayErrors } from '@sre/gateway/errors';
import { imagesErrors } from '@sre/images/errors';
import { platformErrors } from '@sre/platform';
import { MESSAGES } from '@sre/web/messages';

// Here rather than in packages/web: the web app is a package, and packages do not import services.
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
});
