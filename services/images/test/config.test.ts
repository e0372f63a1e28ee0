import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@sre/platform';
import { configSchema } from '../src/config.js';

describe('images config schema', () => {
  it('keeps PGlite in memory when PGLITE_DATA_DIR is unset, as Auth does (npm start passes a folder)', () => {
    const config = parseConfig('images', configSchema, {});
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.PGLITE_DATA_DIR, undefined);
    assert.equal(parseConfig('images', configSchema, { PGLITE_DATA_DIR: '.data/images/pglite' }).PGLITE_DATA_DIR, '.data/images/pglite');
  });

  it('refuses the old ":memory:" marker, which would otherwise become a folder of that name', () => {
    assert.throws(
      () => parseConfig('images', configSchema, { PGLITE_DATA_DIR: ':memory:' }),
      (err: unknown) => err instanceof ConfigError && /PGLITE_DATA_DIR must be a folder; leave it unset/.test(err.message),
    );
  });

  it('reads TRUST_PROXY like every service: nobody by default, hop counts and address lists, never "true"', () => {
    assert.equal(parseConfig('images', configSchema, {}).TRUST_PROXY, false);
    assert.equal(parseConfig('images', configSchema, { TRUST_PROXY: '2' }).TRUST_PROXY, 2);
    assert.equal(parseConfig('images', configSchema, { TRUST_PROXY: '127.0.0.3' }).TRUST_PROXY, '127.0.0.3');
    assert.throws(() => parseConfig('images', configSchema, { TRUST_PROXY: 'true' }), /TRUST_PROXY must not be "true"/);
  });
});
