import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, parseDuration, parseMix, parseOptions } from '../src/options.js';

describe('load options', () => {
  it('--help asks for usage and nothing else', () => {
    assert.equal(parseOptions(['--help']), undefined);
  });

  it('refuses a target that is not loopback unless --allow-remote is given', () => {
    assert.throws(() => parseOptions(['--target', 'https://sre.example.com']), /not loopback; pass --allow-remote/);
    assert.equal(parseOptions(['--target', 'https://sre.example.com', '--allow-remote'])?.target.host, 'sre.example.com');
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'http://127.3.4.5']) assert.ok(isLoopback(new URL(url)), url);
    for (const url of ['http://10.0.0.1', 'http://[::ffff:10.0.0.1]', 'http://localhost.example.com', 'http://128.0.0.1'])
      assert.ok(!isLoopback(new URL(url)), url);
  });

  it('bounds count and time: max flows defaults to rate × duration; durations between 1 s and 24 h', () => {
    const options = parseOptions(['--rate', '2.5', '--duration', '2m']);
    assert.equal(options?.maxFlows, 300);
    assert.equal(parseDuration('5m'), 300_000);
    assert.throws(() => parseDuration('25h'), /between 1s and 24h/);
    assert.throws(() => parseDuration('forever'), /not a duration/);
    assert.throws(() => parseOptions(['--rate', '0']), /--rate must be a number above 0/);
  });

  it('reads flow weights and refuses unknown flows', () => {
    assert.deepEqual(parseMix('signup=1,browse=3'), { signup: 1, browse: 3 });
    assert.throws(() => parseMix('checkout=1'), /unknown flow "checkout"/);
    assert.throws(() => parseMix('signup=0'), /at least one flow/);
  });
});
