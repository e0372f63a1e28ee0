import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '@sre/platform';
import { configSchema } from '../src/config.js';
import { generateSigningKeyPair } from '../src/keys.js';
import { createPasswordHasher } from '../src/passwords.js';

describe('password hashing', () => {
  const defaults = parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: generateSigningKeyPair().privateKeyPem });
  const hasher = createPasswordHasher({ memoryKiB: defaults.ARGON2_MEMORY_KIB, timeCost: defaults.ARGON2_TIME_COST, parallelism: defaults.ARGON2_PARALLELISM });

  it('uses argon2id with the production default cost (OWASP minimum m=19456 KiB, t=2, p=1)', async () => {
    const hash = await hasher.hash('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await hasher.verify(hash, 'correct horse battery'), true);
    assert.equal(await hasher.verify(hash, 'correct horse batterY'), false);
    assert.equal(await hasher.verify(undefined, 'correct horse battery'), false, 'the dummy hash never matches');
    assert.equal(await hasher.verify('not-a-hash', 'x'), false);
  });

  it('hashes off the event loop: timers keep firing while a hash is computed', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    try {
      // Several production-cost hashes at once: if they ran on the event loop, no tick could fire until all were done.
      await Promise.all(Array.from({ length: 4 }, () => hasher.hash('correct horse battery')));
      const ticksDuring = ticks;
      assert.ok(ticksDuring > 0, `event loop was blocked (ticks=${ticksDuring})`);
    } finally {
      clearInterval(timer);
    }
  });
});
