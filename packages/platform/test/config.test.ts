import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, baseConfigShape, envSecret, envUrl, parseConfig, z } from '../src/index.js';

const schema = z.object({ ...baseConfigShape, DATABASE_URL: envUrl(['postgres', 'postgresql']), API_KEY: envSecret(16) });

describe('config', () => {
  it('parses defaults and freezes the result', () => {
    const config = parseConfig('demo', schema, { DATABASE_URL: 'postgres://h/db', API_KEY: 'k'.repeat(20) });
    assert.equal(config.PORT, 8080);
    assert.equal(config.MANAGEMENT_PORT, 9464);
    assert.ok(Object.isFrozen(config));
  });

  it('reports every problem at once, naming variables and never values', () => {
    const secret = 'change-me-please-now';
    try {
      parseConfig('demo', schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x', API_KEY: secret });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /PORT must be an integer/);
      assert.match(err.message, /DATABASE_URL must be a URL with protocol postgres or postgresql/);
      assert.match(err.message, /API_KEY is a placeholder value/);
      assert.ok(!err.message.includes(secret));
      assert.equal(err.problems.length, 3);
    }
  });

  it('says "is required" for a missing variable', () => {
    assert.throws(() => parseConfig('demo', schema, { DATABASE_URL: 'postgres://h/db' }), /API_KEY is required/);
  });
});
