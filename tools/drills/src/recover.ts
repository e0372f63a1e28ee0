import { labelsMatch, promQuery } from './observability.js';
import { fmtMs } from './format.js';
import { notificationIsAbout, type DrillContext, type ExpectationResult, type Journal, type ScenarioPlan, type Target, type TrafficClass } from './types.js';
import type { Traffic } from './traffic.js';

/**
 * After rollback: steady state must return (time-to-recover), every alert the drill raised must
 * resolve within the bound derived from its rule and route (bounds/derive.ts), with a resolved
 * notification where the sink is readable, and the signals a scenario expects back must return.
 */

const CLASSES: readonly TrafficClass[] = ['auth', 'images', 'storage'];

export interface Pollers {
  pollAlerts: () => Promise<{ am: Array<{ labels: Record<string, string> }> }>;
  pollSink: () => Promise<void>;
  recordQueries: () => Promise<void>;
}

export async function recover(
  plan: ScenarioPlan,
  target: Target,
  ctx: DrillContext,
  journal: Journal,
  traffic: Traffic | undefined,
  rel: () => number,
  print: (line: string) => void,
  pollers: Pollers,
): Promise<void> {
  const startedAt = rel();
  const deadline = startedAt + plan.recoverWithinMs;
  // Steady again: the last 3 s of traffic in every class all succeeded, and the target is healthy.
  const windowMs = 3000;
  let recoveredAt: number | undefined;
  let lastProblem = '';
  let lastQuery = 0;
  while (rel() < deadline) {
    await pollers.pollAlerts();
    await pollers.pollSink();
    if (rel() - lastQuery >= 2000) {
      lastQuery = rel();
      await pollers.recordQueries();
    }
    const now = rel();
    const recent = (traffic?.samples ?? []).filter((s) => s.t >= now - windowMs && s.t >= startedAt);
    const problems: string[] = [];
    for (const cls of CLASSES) {
      const inClass = recent.filter((s) => s.cls === cls);
      if (inClass.length === 0) problems.push(`no recent ${cls} traffic`);
      else if (inClass.some((s) => !s.ok)) problems.push(`${cls} still failing`);
    }
    if (problems.length === 0 && target.healthProblems) problems.push(...(await target.healthProblems(ctx)));
    if (problems.length === 0) {
      // The first moment of the all-good window is when service came back.
      const firstGood = recent.length > 0 ? Math.min(...recent.map((s) => s.t)) : now;
      recoveredAt = Math.max(startedAt, firstGood);
      break;
    }
    lastProblem = problems.join('; ');
    await new Promise((r) => setTimeout(r, 1000));
  }
  journal.markers.recoveredAt = recoveredAt;
  if (recoveredAt !== undefined) journal.timeToRecoverMs = recoveredAt - startedAt;
  journal.expectations.push({
    id: 'recovery',
    kind: 'recovery',
    description: 'Steady state returns after rollback',
    why: 'Rollback must heal the platform without manual steps; time-to-recover is measured from the start of rollback.',
    check: 'every traffic class succeeds for 3 s and the target reports no health problem',
    bound: `≤ ${fmtMs(plan.recoverWithinMs)}`,
    status: recoveredAt !== undefined ? 'passed' : 'failed',
    observed: recoveredAt !== undefined ? `recovered after ${fmtMs(recoveredAt - startedAt)}` : `not recovered: ${lastProblem}`,
    ...(recoveredAt !== undefined ? { measuredMs: recoveredAt - startedAt } : {}),
  });
  print(`    ${recoveredAt !== undefined ? '✓' : '✗'} recovery: ${journal.expectations.at(-1)?.observed}`);

  // Bounds run from the start of rollback: each resolve bound already holds the rule's window and the route's group_interval.
  // A fast rollback can resolve an alert, and Alertmanager notify the sink, before this phase begins.
  const rollbackAt = journal.markers.rollbackAt ?? startedAt;
  // Ctrl-C or SIGTERM: the recovery check above still ran (did the rollback work?), but nobody waits up
  // to half an hour (real time) for alerts to resolve.
  const interrupted = () => ctx.signal.aborted;
  await Promise.all([
    ...plan.resolves.map(async (r) => {
      const { alertname } = r;
      const result: ExpectationResult = {
        id: `resolves-${alertname}`,
        kind: 'recovery',
        description: `${alertname} resolves after rollback`,
        why: 'A page that never resolves keeps people on call; Alertmanager sends a resolved notification.',
        check: `${alertname} no longer active in Alertmanager${target.sinkUrl ? '; the Slack sink received a resolved notification' : ''}`,
        bound: `≤ ${fmtMs(r.withinMs)} after rollback${r.derivation ? ` (${r.derivation})` : ''}`,
        status: 'pending',
        observed: '',
      };
      journal.expectations.push(result);
      while (rel() < rollbackAt + r.withinMs && !interrupted()) {
        const { am } = await pollers.pollAlerts();
        await pollers.pollSink();
        // By its labels too: an SLO page and the ticket of the same name are different alerts, and the ticket
        // (hours of look-back) stays open long after the page resolved.
        const active = am.some((a) => a.labels.alertname === alertname && labelsMatch(a.labels, r.labels));
        const resolvedNote = journal.notifications.find((n) => n.status === 'resolved' && notificationIsAbout(n, alertname, r.labels) && n.t >= rollbackAt);
        if (!active && (!target.sinkUrl || resolvedNote)) {
          result.status = 'passed';
          result.measuredMs = rel() - rollbackAt;
          result.observed = `resolved after ${fmtMs(rel() - rollbackAt)}${resolvedNote ? '; resolved notification delivered' : ''}`;
          break;
        }
        await new Promise((res) => setTimeout(res, 1000));
      }
      if (result.status === 'pending' && interrupted()) {
        result.status = 'not-run';
        result.observed = `interrupted after ${fmtMs(rel() - rollbackAt)}, before it resolved`;
      } else if (result.status === 'pending') {
        result.status = 'failed';
        result.observed = `still active (or no resolved notification) ${fmtMs(r.withinMs)} after rollback`;
      }
      print(`    ${result.status === 'passed' ? '✓' : '✗'} ${result.id}: ${result.observed}`);
    }),
    ...(plan.afterRollback ?? []).map(async (e) => {
      const result: ExpectationResult = {
        id: e.id,
        kind: 'recovery',
        description: e.description,
        why: e.why,
        check: `PromQL returns a series: ${e.query}`,
        bound: `≤ ${fmtMs(e.withinMs)} after rollback${e.derivation ? ` (${e.derivation})` : ''}`,
        status: 'pending',
        observed: '',
      };
      journal.expectations.push(result);
      while (rel() < rollbackAt + e.withinMs && !interrupted()) {
        const res = await promQuery(target.prometheusUrl, e.query).catch(() => []);
        if (res.length > 0) {
          result.status = 'passed';
          result.measuredMs = rel() - rollbackAt;
          result.observed = `after ${fmtMs(rel() - rollbackAt)}`;
          break;
        }
        await new Promise((done) => setTimeout(done, 2000));
      }
      if (result.status === 'pending' && interrupted()) {
        result.status = 'not-run';
        result.observed = `interrupted after ${fmtMs(rel() - rollbackAt)}`;
      } else if (result.status === 'pending') {
        result.status = 'failed';
        result.observed = `no series within ${fmtMs(e.withinMs)} of rollback`;
      }
      print(`    ${result.status === 'passed' ? '✓' : '✗'} ${result.id}: ${result.observed}`);
    }),
  ]);
}
