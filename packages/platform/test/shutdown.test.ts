import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs } from '@sre/testkit';
import { createPlatform, createShutdown } from '../src/index.js';

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200 };

function setup() {
  const { lines, destination: logDestination } = captureLogs();
  const platform = createPlatform({ service: 'demo', config, logDestination, collectProcessMetrics: false });
  const exits: number[] = [];
  const events: string[] = [];
  return { platform, lines, exits, events, exit: (code: number) => void exits.push(code) };
}

describe('createShutdown', () => {
  it('fails readiness at once, waits the drain delay, runs steps in order, then exits 0', async () => {
    const { platform, exits, events, exit, lines } = setup();
    const shutdown = createShutdown({
      platform,
      drainDelayMs: 300,
      timeoutMs: 10_000,
      exit,
      steps: [
        { name: 'listener', run: async () => void events.push('listener') },
        { name: 'pool', run: async () => void events.push('pool') },
      ],
    });
    const done = shutdown('SIGTERM');
    assert.equal(platform.health.draining, true, 'readiness fails synchronously');
    assert.equal((await platform.health.readiness()).status, 'draining');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, [], 'steps wait for the drain delay');
    await done;
    assert.deepEqual(events, ['listener', 'pool']);
    assert.deepEqual(exits, [0]);
    assert.ok(lines.some((l) => l.msg === 'shutdown complete'));
  });

  it('is safe to trigger twice: one run, one exit', async () => {
    const { platform, exits, events, exit } = setup();
    const shutdown = createShutdown({
      platform,
      drainDelayMs: 10,
      timeoutMs: 10_000,
      exit,
      steps: [{ name: 'once', run: async () => void events.push('once') }],
    });
    const first = shutdown('SIGTERM');
    const second = shutdown('SIGINT');
    assert.equal(first, second);
    await Promise.all([first, second]);
    await shutdown('SIGTERM');
    assert.deepEqual(events, ['once']);
    assert.deepEqual(exits, [0]);
  });

  it('runs the remaining steps when one fails, and exits 1', async () => {
    const { platform, exits, events, exit } = setup();
    const shutdown = createShutdown({
      platform,
      drainDelayMs: 0,
      timeoutMs: 10_000,
      exit,
      steps: [
        { name: 'broken', run: async () => Promise.reject(new Error('boom')) },
        { name: 'pool', run: async () => void events.push('pool') },
      ],
    });
    await shutdown('SIGTERM');
    assert.deepEqual(events, ['pool']);
    assert.deepEqual(exits, [1]);
  });

  it('exits 1 at the hard timeout when a step hangs', async () => {
    const { platform, exits, exit, lines } = setup();
    const shutdown = createShutdown({ platform, drainDelayMs: 0, timeoutMs: 200, exit, steps: [{ name: 'stuck', run: () => new Promise(() => undefined) }] });
    void shutdown('SIGTERM');
    for (let i = 0; i < 200 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(exits, [1]);
    assert.ok(lines.some((l) => l.msg === 'shutdown timed out; exiting now'));
  });
});
