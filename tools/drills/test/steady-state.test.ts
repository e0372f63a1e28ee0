import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEADY_STATE_DEFAULTS, steadyTrafficProblems } from '../src/runner.js';
import type { TrafficClass, TrafficSample } from '../src/types.js';

/**
 * The steady-state bound a drill must meet before it may inject (issue 15 item 18: setting it to
 * 0 % success went unnoticed). The end-to-end "not started" case is in local-drills.test.ts.
 */

function samples(cls: TrafficClass, ok: number, failed: number, latencyMs = 20): TrafficSample[] {
  const one = (good: boolean, i: number): TrafficSample => ({ t: i * 100, cls, route: 'GET /x', status: good ? 200 : 503, ok: good, latencyMs, phase: 'steady-state' });
  return [...Array.from({ length: ok }, (_, i) => one(true, i)), ...Array.from({ length: failed }, (_, i) => one(false, ok + i))];
}

const healthy = (): TrafficSample[] => [...samples('auth', 20, 0), ...samples('images', 20, 0), ...samples('storage', 20, 0)];

describe('steady-state bound', () => {
  it('a platform where every class succeeds quickly is steady', () => {
    assert.deepEqual(steadyTrafficProblems(healthy()), []);
  });

  it('by default, one failed request in fifty (98 %) is not steady: the bound is 99 % success per class', () => {
    const window = [...samples('auth', 20, 0), ...samples('images', 49, 1), ...samples('storage', 20, 0)];
    assert.deepEqual(STEADY_STATE_DEFAULTS, { minSuccessRatio: 0.99, maxP95Ms: 1000 });
    const problems = steadyTrafficProblems(window);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^images traffic below the steady-state thresholds: 49\/50 ok \(98\.0%\)/);
  });

  it('half the requests failing is never steady, and neither is a class without any completed request', () => {
    const problems = steadyTrafficProblems([...samples('auth', 10, 10), ...samples('images', 20, 0)]);
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['auth traffic below the steady-state thresholds', 'no storage traffic completed in the steady-state window']);
  });

  it('slow answers are not steady (p95 above 1 s by default); a run may loosen the bounds it states', () => {
    const slow = [...samples('auth', 20, 0, 1500), ...samples('images', 20, 0), ...samples('storage', 20, 0)];
    assert.equal(steadyTrafficProblems(slow).length, 1);
    assert.deepEqual(steadyTrafficProblems(slow, { steadyMaxP95Ms: 3000 }), []);
  });
});
