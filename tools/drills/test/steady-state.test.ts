import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastingHealthProblems, STEADY_STATE_DEFAULTS, steadyTrafficProblems } from '../src/runner.js';
import type { DrillContext, Target, TrafficClass, TrafficSample } from '../src/types.js';

/**
 * The steady-state bound a drill must meet before it may inject (issue 15 item 18: setting it to
 * 0 % success went unnoticed). The end-to-end "not started" case is in local-drills.test.ts.
 */

function samples(cls: TrafficClass, ok: number, failed: number, latencyMs = 20): TrafficSample[] {
  const one = (good: boolean, i: number): TrafficSample => ({
    t: i * 100,
    cls,
    route: 'GET /x',
    status: good ? 200 : 503,
    ok: good,
    latencyMs,
    phase: 'steady-state',
  });
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
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['auth traffic below the steady-state thresholds', 'no storage traffic completed in the steady-state window'],
    );
  });

  it('slow answers are not steady (p95 above 1 s by default); a run may loosen the bounds it states', () => {
    const slow = [...samples('auth', 20, 0, 1500), ...samples('images', 20, 0), ...samples('storage', 20, 0)];
    assert.equal(steadyTrafficProblems(slow).length, 1);
    assert.deepEqual(steadyTrafficProblems(slow, { steadyMaxP95Ms: 3000 }), []);
  });
});

describe('steady-state health: a blip is not a broken platform', () => {
  /** A Prometheus that answers `up == 0` with no series, and a target whose readiness answers from a script. */
  async function withTarget(readiness: string[][], run: (target: Target) => Promise<void>) {
    const prometheus = createServer((_req, res) => res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } })));
    await new Promise<void>((r) => prometheus.listen(0, '127.0.0.1', r));
    let call = 0;
    const target = {
      prometheusUrl: `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`,
      healthProblems: async () => readiness[Math.min(call++, readiness.length - 1)] ?? [],
    } as unknown as Target;
    try {
      await run(target);
    } finally {
      prometheus.close();
    }
  }
  const ctx = {} as DrillContext;

  it('an instance unready for one check and ready at the next does not stop the drill', async () => {
    await withTarget([['images#2 is not ready'], []], async (target) => {
      assert.deepEqual(await lastingHealthProblems(target, ctx, new AbortController().signal, 10_000), []);
    });
  });

  it('an instance unready through the whole grace period does, and the message says for how long', async () => {
    await withTarget([['images#2 is not ready']], async (target) => {
      const problems = await lastingHealthProblems(target, ctx, new AbortController().signal, 400);
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', /^images#2 is not ready \(still after 400 ms of re-checking\)$/);
    });
  });
});
