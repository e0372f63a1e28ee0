import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, baseConfigShape, envOptionalSecret, envSecret, envUrl, parseConfig, z } from '../src/index.js';

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

describe('placeholder secrets', () => {
  const optionalSchema = z.object({ DATABASE_URL: envOptionalSecret(), S3_SECRET_ACCESS_KEY: envOptionalSecret() });

  it('refuses a placeholder inside a URL and a bare placeholder, naming only the variables', () => {
    try {
      parseConfig('demo', optionalSchema, { DATABASE_URL: 'postgres://auth:CHANGE_ME@postgres:5432/auth', S3_SECRET_ACCESS_KEY: 'CHANGE_ME' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.split(' ')[0]),
        ['DATABASE_URL', 'S3_SECRET_ACCESS_KEY'],
      );
      assert.ok(!err.message.includes('postgres://'));
    }
  });

  it('accepts unset and real values', () => {
    const unset = parseConfig('demo', optionalSchema, {});
    assert.equal(unset.DATABASE_URL, undefined);
    assert.equal(unset.S3_SECRET_ACCESS_KEY, undefined);
    assert.equal(parseConfig('demo', optionalSchema, { S3_SECRET_ACCESS_KEY: 'Zq81vX0p2LrT9wQm' }).S3_SECRET_ACCESS_KEY, 'Zq81vX0p2LrT9wQm');
  });
});
