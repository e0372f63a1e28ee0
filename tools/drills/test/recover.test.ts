import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recover } from '../src/recover.js';
import type { Traffic } from '../src/traffic.js';
import type { DrillContext, Journal, ScenarioPlan, Target } from '../src/types.js';

/**
 * The recover phase's resolve check, with the alert sources replaced by fixed answers: the clock is
 * the only moving part, so these pin which notifications count, not how fast anything is.
 */

function journalAt(rollbackAt: number, notifications: Journal['notifications']): Journal {
  return {
    version: 1,
    scenario: 'secret-deletion',
    title: '',
    summary: '',
    target: 'local',
    dryRun: false,
    startedAt: '',
    finishedAt: '',
    result: 'planned',
    environment: {},
    phases: [],
    events: [],
    actions: [],
    expectations: [],
    traffic: [],
    queries: [],
    alertStates: [],
    notifications,
    logs: [],
    markers: { injectedAt: 1_000, rollbackAt },
  };
}

const plan = {
  recoverWithinMs: 1_000,
  resolves: [{ alertname: 'ServiceDown', withinMs: 5_000, labels: { service: 'auth' } }],
} as unknown as ScenarioPlan;
const target = { name: 'local', sinkUrl: 'http://127.0.0.1:1', prometheusUrl: 'http://127.0.0.1:1', healthProblems: async () => [] } as unknown as Target;
const ctx = { signal: new AbortController().signal } as DrillContext;

async function resolveResult(journal: Journal, now: number, active: Array<{ labels: Record<string, string> }>, context: DrillContext = ctx) {
  let t = now;
  const rel = () => (t += 1_000);
  // Every traffic class succeeded just now: steady state is back at once.
  const samples = (['auth', 'images', 'storage'] as const).map((cls) => ({ t: now + 2_000, cls, ok: true }));
  const traffic = { samples } as unknown as Traffic;
  await recover(plan, target, context, journal, traffic, rel, () => undefined, {
    pollAlerts: async () => ({ am: active }),
    pollSink: async () => undefined,
    recordQueries: async () => undefined,
  });
  return journal.expectations.find((e) => e.id === 'resolves-ServiceDown');
}

const resolvedNote = (t: number) => ({ receivedAt: '', t, status: 'resolved', alertnames: ['ServiceDown'], text: '', runbookUrls: [] });

describe('drills: recover phase', () => {
  it('counts a resolved notification that arrived during rollback, before the recover phase began', async () => {
    // Rollback at 10 s; the notification at 10.4 s; the recover phase starts at 10.8 s.
    const result = await resolveResult(journalAt(10_000, [resolvedNote(10_400)]), 10_800, []);
    assert.equal(result?.status, 'passed', result?.observed);
  });

  it('does not count a resolved notification from before the rollback', async () => {
    const result = await resolveResult(journalAt(10_000, [resolvedNote(9_000)]), 10_800, []);
    assert.equal(result?.status, 'failed');
    assert.match(result?.observed ?? '', /still active \(or no resolved notification\) 5 s after rollback/);
  });

  it('an alert of the same name with other labels (the SLO ticket) does not keep the page open', async () => {
    const ticket = { labels: { alertname: 'ServiceDown', service: 'images' } };
    assert.equal((await resolveResult(journalAt(10_000, [resolvedNote(10_400)]), 10_800, [ticket]))?.status, 'passed');
    const page = { labels: { alertname: 'ServiceDown', service: 'auth' } };
    assert.equal((await resolveResult(journalAt(10_000, [resolvedNote(10_400)]), 10_800, [page]))?.status, 'failed');
  });

  it("another service's resolved notification of the same alert does not count (the gateway's SLO page for images')", async () => {
    const forGateway = { ...resolvedNote(10_400), service: 'gateway' };
    assert.equal((await resolveResult(journalAt(10_000, [forGateway]), 10_800, []))?.status, 'failed');
    const forAuth = { ...resolvedNote(10_400), service: 'auth' };
    assert.equal((await resolveResult(journalAt(10_000, [forAuth]), 10_800, []))?.status, 'passed');
  });

  it('stops waiting for an alert to resolve once the drill is interrupted (Ctrl-C, SIGTERM), and says so', async () => {
    const interrupted = new AbortController();
    interrupted.abort();
    const page = { labels: { alertname: 'ServiceDown', service: 'auth' } };
    const result = await resolveResult(journalAt(10_000, []), 10_800, [page], { signal: interrupted.signal } as DrillContext);
    assert.equal(result?.status, 'not-run');
    assert.match(result?.observed ?? '', /^interrupted after .*, before it resolved$/);
  });
});
