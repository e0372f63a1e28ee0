import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorClass, startConsoleSummary, summaryLine } from '../src/console-summary.js';

/** The console summary of service errors during a drill (issue 12: hundreds of lines per scenario). */

describe('console summary of service errors', () => {
  it('classes a line by service, message and the catalogued code or system error it names', () => {
    assert.equal(errorClass('[gateway] WARN upstream request failed (connect ECONNREFUSED 127.0.0.1:41877)'), 'gateway upstream request failed: ECONNREFUSED');
    assert.equal(
      errorClass('[images#2] ERROR request failed (IMAGES_STORAGE_UNAVAILABLE: storage did not answer)'),
      'images request failed: IMAGES_STORAGE_UNAVAILABLE',
    );
    // Without a code, numbers (ports, ids, durations) are folded so that the lines share a class.
    assert.equal(
      errorClass('[images#1] ERROR request failed (timeout after 2000 ms on 10.0.0.5)'),
      errorClass('[images#2] ERROR request failed (timeout after 2003 ms on 10.0.0.6)'),
    );
    assert.equal(errorClass('[auth] WARN refresh token reused: family revoked'), 'auth refresh token reused: family revoked');
  });

  it('lets launcher lines, fatal errors and non-service lines through', () => {
    assert.equal(errorClass('[launcher] images#1 was killed by SIGKILL; restarting in 0.5 s'), undefined);
    assert.equal(errorClass('[auth] FATAL invalid configuration'), undefined);
    assert.equal(errorClass('PostgreSQL ready on 127.0.0.1:5433'), undefined);
    assert.equal(errorClass('[images#1] WARN chaos fault switched on'), undefined);
  });

  it('prints one summary per interval with counts per class (largest first), and every other line at once', () => {
    const printed: string[] = [];
    const summary = startConsoleSummary({ print: (l) => printed.push(l), intervalMs: 60_000 });
    try {
      for (let i = 0; i < 42; i++) summary.line(`[images#${(i % 2) + 1}] ERROR request failed (CHAOS_INJECTED_FAULT injected fault ${i})`);
      summary.line('[launcher] images#1 exited with code 1; restarting in 0.5 s');
      for (let i = 0; i < 3; i++) summary.line(`[gateway] WARN upstream request failed (connect ECONNREFUSED 127.0.0.1:${4000 + i})`);
      assert.deepEqual(printed, ['[launcher] images#1 exited with code 1; restarting in 0.5 s'], 'errors are held back until the interval ends');
      summary.flush();
      assert.equal(printed[1], 'errors (60 s): images request failed: CHAOS_INJECTED_FAULT ×42, gateway upstream request failed: ECONNREFUSED ×3');
      summary.flush();
      assert.equal(printed.length, 2, 'an interval without errors prints nothing');
    } finally {
      summary.stop();
    }
  });

  it('prints by itself when the interval passes, and flushes what is left on stop', async () => {
    const printed: string[] = [];
    const summary = startConsoleSummary({ print: (l) => printed.push(l), intervalMs: 50 });
    summary.line('[auth] ERROR request failed (AUTH_DB_UNAVAILABLE)');
    // Bounded wait for the interval timer (not a timing assertion: any number of intervals may pass).
    for (let i = 0; i < 100 && printed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(printed, ['errors (0 s): auth request failed: AUTH_DB_UNAVAILABLE ×1']);
    summary.line('[auth] ERROR request failed (AUTH_DB_UNAVAILABLE)');
    summary.stop();
    assert.equal(printed.length, 2);
  });

  it('formats a summary line', () => {
    assert.equal(
      summaryLine(
        new Map([
          ['b', 1],
          ['a', 1],
          ['c', 5],
        ]),
        10_000,
      ),
      'errors (10 s): c ×5, a ×1, b ×1',
    );
  });
});
