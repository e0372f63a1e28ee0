import { amAlerts, labelsMatch, type PromSample, promAlerts, promQuery, ready, runbookLinks, sinkNotifications, slackText } from './observability.js';
import { budgetRemaining, measureBudget } from './budget.js';
import { recover } from './recover.js';
import { failedRequestTraces } from './report/failed-traces.js';
import { describeSummary, startTraffic, summarize, type Traffic } from './traffic.js';
import { fmtMs } from './format.js';
import type {
  DrillContext,
  Expectation,
  ExpectationResult,
  Journal,
  PhaseName,
  ScenarioName,
  ScenarioPlan,
  Step,
  Target,
  TrafficClass,
  TrafficSample,
} from './types.js';
import { notificationIsAbout } from './types.js';

/**
 * Runs one drill through its phases, in the manner of chaostoolkit / Litmus:
 *   1 steady-state  synthetic traffic through the gateway meets the thresholds, the platform is
 *                   healthy, the observability stack answers — else the drill does not start;
 *   2 inject        the target's actions;
 *   3 observe       expected alerts reach Alertmanager (and the Slack sink) within their bound,
 *                   Prometheus signals move, user-visible behaviour holds;
 *   4 rollback      always: also after a failure, an exception or Ctrl-C;
 *      recover      steady state returns (time-to-recover) and the alerts resolve;
 *   5 report        the journal (the reporters write JSON, Markdown and HTML from it).
 */

export interface RunOptions {
  dryRun?: boolean;
  /** Ctrl-C: abort observation and roll back. */
  signal?: AbortSignal;
  /** Progress lines for the terminal. */
  print?: (line: string) => void;
  /** Length of the steady-state window. */
  steadyStateMs?: number;
  /** Steady-state thresholds: availability per traffic class and p95 latency. */
  steadyMinSuccessRatio?: number;
  steadyMaxP95Ms?: number;
  /** Poll interval for alerts, queries and probes. */
  pollMs?: number;
  /** Synthetic traffic rate (requests/s). */
  ratePerSecond?: number;
}

const CLASSES: readonly TrafficClass[] = ['auth', 'images', 'storage'];

/** The steady-state thresholds when a run does not set its own: what "healthy" means before a drill may inject. */
export const STEADY_STATE_DEFAULTS = { minSuccessRatio: 0.99, maxP95Ms: 1000 } as const;
/** How long an unready service or a down scrape target may take to clear before a drill refuses to start. */
export const STEADY_HEALTH_GRACE_MS = 30_000;

/**
 * Traffic in the steady-state window, judged per class: every class must have completed requests,
 * at least `steadyMinSuccessRatio` of them successful, with p95 latency within `steadyMaxP95Ms`.
 * Returns the problems; none means steady.
 */
export function steadyTrafficProblems(window: readonly TrafficSample[], options: Pick<RunOptions, 'steadyMinSuccessRatio' | 'steadyMaxP95Ms'> = {}): string[] {
  const minRatio = options.steadyMinSuccessRatio ?? STEADY_STATE_DEFAULTS.minSuccessRatio;
  const maxP95 = options.steadyMaxP95Ms ?? STEADY_STATE_DEFAULTS.maxP95Ms;
  const problems: string[] = [];
  for (const cls of CLASSES) {
    const s = summarize(window.filter((x) => x.cls === cls));
    if (s.total === 0) problems.push(`no ${cls} traffic completed in the steady-state window`);
    else if (s.successRatio < minRatio || s.p95Ms > maxP95) problems.push(`${cls} traffic below the steady-state thresholds: ${describeSummary(s)}`);
  }
  return problems;
}

export function describeExpectation(e: Expectation, sink = true): { check: string; bound?: string } {
  switch (e.kind) {
    case 'alert-fires': {
      const labels = e.labels
        ? `{${Object.entries(e.labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(',')}}`
        : '';
      return {
        check: `Alertmanager GET /api/v2/alerts has ${e.alertname}${labels} active${e.notification ? (sink ? '; the Slack sink received it with its runbook link' : ' for the Slack receiver') : ''}`,
        bound: `≤ ${fmtMs(e.withinMs)} after injection${e.derivation ? ` (${e.derivation})` : ''}`,
      };
    }
    case 'alert-silent':
      return { check: `${e.alertname} never fires (Prometheus GET /api/v1/alerts)`, bound: 'whole observation' };
    case 'promql':
      return { check: `PromQL returns a series: ${e.query}`, bound: `≤ ${fmtMs(e.withinMs)}${e.derivation ? ` (${e.derivation})` : ''}` };
    case 'traffic': {
      const parts: string[] = [];
      if (e.minSuccessRatio !== undefined) parts.push(`success ≥ ${(e.minSuccessRatio * 100).toFixed(e.minSuccessRatio === 1 ? 0 : 1)}%`);
      if (e.maxSuccessRatio !== undefined) parts.push(`success ≤ ${(e.maxSuccessRatio * 100).toFixed(1)}%`);
      if (e.failureStatuses) parts.push(`failures answer ${e.failureStatuses.join('/')}`);
      if (e.maxFailureP95Ms !== undefined) parts.push(`failures fast (p95 ≤ ${e.maxFailureP95Ms} ms)`);
      return { check: `synthetic traffic [${e.classes.join(', ')}]: ${parts.join(', ')}`, bound: 'while the fault is on' };
    }
    case 'probe':
      return { check: e.check, bound: `≤ ${fmtMs(e.withinMs)}` };
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function newJournal(plan: ScenarioPlan, target: Target, dryRun: boolean): Journal {
  return {
    version: 1,
    scenario: plan.scenario,
    title: plan.title,
    summary: plan.summary,
    target: plan.target,
    dryRun,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    result: dryRun ? 'planned' : 'failed',
    environment: {
      ...target.environment,
      gateway: target.gatewayUrl,
      prometheus: target.prometheusUrl,
      alertmanager: target.alertmanagerUrl,
      ...(target.sinkUrl ? { sink: target.sinkUrl } : {}),
    },
    phases: [],
    events: [],
    actions: [],
    expectations: plan.expectations.map((e) => ({
      id: e.id,
      kind: e.kind,
      description: e.description,
      why: e.why,
      ...describeExpectation(e, target.sinkUrl !== undefined),
      status: 'not-run',
      observed: '',
    })),
    traffic: [],
    queries: plan.queries.map((q) => ({ name: q.name, promql: q.promql, points: [] })),
    alertStates: [],
    notifications: [],
    logs: [],
    markers: {},
  };
}

/** The plan as text: every action and check, in order (what --dry-run prints). */
export function planLines(plan: ScenarioPlan, target: Target, options: RunOptions = {}): string[] {
  const steadyMs = options.steadyStateMs ?? 6000;
  const lines: string[] = [];
  lines.push(`drill ${plan.scenario} on ${plan.target}: ${plan.title}`);
  lines.push(`  ${plan.summary}`);
  lines.push('1. steady state');
  lines.push(`   check  Prometheus ready: GET ${target.prometheusUrl.replace(/\/$/, '')}/-/ready`);
  lines.push(`   check  Alertmanager ready: GET ${target.alertmanagerUrl.replace(/\/$/, '')}/-/ready`);
  lines.push(`   check  every scrape target up: PromQL ${'`up == 0`'} returns nothing`);
  lines.push(`   check  no alert this drill watches is active in Alertmanager (waiting up to ${fmtMs(target.settleMs ?? 0)} for earlier ones to resolve)`);
  lines.push(
    `   check  none of the expected alerts is already firing: ${
      plan.expectations
        .filter((e) => e.kind === 'alert-fires')
        .map((e) => (e as { alertname: string }).alertname)
        .join(', ') || '(none)'
    }`,
  );
  if (target.name === 'kubernetes')
    lines.push('   check  every Deployment in the app namespace has all replicas available: kubectl get deployments -n app -o json');
  lines.push(
    `   traffic synthetic user through ${target.gatewayUrl}: register, log in, upload a picture; then ${options.ratePerSecond ?? 8} req/s over auth (/api/auth/me, login), images (/api/images), storage (thumbnail)`,
  );
  lines.push(
    `   check  for ${fmtMs(steadyMs)}: success ≥ ${((options.steadyMinSuccessRatio ?? STEADY_STATE_DEFAULTS.minSuccessRatio) * 100).toFixed(0)}% per class and p95 ≤ ${options.steadyMaxP95Ms ?? STEADY_STATE_DEFAULTS.maxP95Ms} ms; otherwise the drill does not start`,
  );
  lines.push('2. inject');
  for (const s of plan.inject) lines.push(...stepLines(s));
  lines.push(
    `3. observe (at least ${fmtMs(plan.minObserveMs)}, at most ${fmtMs(plan.maxObserveMs)}; polling Prometheus, Alertmanager${target.sinkUrl ? ' and the Slack sink' : ''})`,
  );
  for (const e of plan.expectations) {
    const d = describeExpectation(e, target.sinkUrl !== undefined);
    lines.push(`   expect [${e.id}] ${e.description}`);
    lines.push(`          ${d.check}${d.bound ? ` (${d.bound})` : ''}`);
  }
  for (const q of plan.queries) lines.push(`   record PromQL ${q.name}: ${q.promql}`);
  lines.push('4. rollback (always, also on failure or Ctrl-C)');
  for (const s of plan.rollback) lines.push(...stepLines(s));
  lines.push(`   check  steady state returns within ${fmtMs(plan.recoverWithinMs)} (every traffic class succeeds again; time-to-recover measured)`);
  for (const r of plan.resolves)
    lines.push(
      `   check  ${r.alertname} resolves in Alertmanager${target.sinkUrl ? ' and a resolved notification reaches the sink' : ''} within ${fmtMs(r.withinMs)} of rollback${r.derivation ? ` (${r.derivation})` : ''}`,
    );
  for (const e of plan.afterRollback ?? [])
    lines.push(`   check  [${e.id}] ${e.description}: PromQL ${e.query} within ${fmtMs(e.withinMs)} of rollback${e.derivation ? ` (${e.derivation})` : ''}`);
  lines.push('5. report: journal.json, report.md, report.html');
  return lines;
}

function stepLines(s: Step): string[] {
  return [`   action ${s.description}`, ...(s.command ? [`          $ ${s.command}`] : [])];
}

interface Evaluator {
  readonly expectation: Expectation;
  readonly result: ExpectationResult;
}

export async function runDrill(target: Target, scenario: ScenarioName, options: RunOptions = {}): Promise<Journal> {
  const plan = target.plan(scenario);
  const print = options.print ?? (() => undefined);
  const dryRun = options.dryRun ?? false;
  const journal = newJournal(plan, target, dryRun);
  const origin = Date.now();
  const rel = () => Date.now() - origin;

  if (dryRun) {
    for (const line of planLines(plan, target, options)) print(line);
    for (const s of [...plan.inject, ...plan.rollback])
      journal.actions.push({
        t: 0,
        phase: plan.inject.includes(s) ? 'inject' : 'rollback',
        description: s.description,
        ...(s.command ? { command: s.command } : {}),
        ok: true,
        output: 'dry run: not executed',
      });
    journal.finishedAt = new Date().toISOString();
    return journal;
  }

  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  let currentPhase: PhaseName = 'steady-state';
  const event = (kind: Journal['events'][number]['kind'], message: string, data?: unknown) => {
    journal.events.push({ t: rel(), at: new Date().toISOString(), kind, message, ...(data === undefined ? {} : { data }) });
  };
  const ctx: DrillContext = {
    dryRun: false,
    signal: abort.signal,
    vars: new Map(),
    log: (message, data) => {
      event('info', message, data);
      print(`    · ${message}`);
    },
    now: rel,
  };
  const phase = (name: PhaseName, note?: string) => {
    const open = journal.phases.at(-1);
    if (open && open.status === 'running') {
      open.status = 'ok';
      open.t1 = rel();
    }
    currentPhase = name;
    journal.phases.push({ name, startedAt: new Date().toISOString(), t0: rel(), status: 'running', ...(note ? { note } : {}) });
    event('phase', name);
    print(`[${clock(rel())}] ▶ ${name}${note ? `: ${note}` : ''}`);
  };
  const failPhase = (note: string) => {
    const open = journal.phases.at(-1);
    if (open) {
      open.status = 'failed';
      open.note = note;
      open.t1 = rel();
    }
  };
  const runStep = async (s: Step): Promise<boolean> => {
    print(`    $ ${s.command ?? s.description}`);
    try {
      const out = (await s.run(ctx)) ?? '';
      journal.actions.push({
        t: rel(),
        phase: currentPhase,
        description: s.description,
        ...(s.command ? { command: s.command } : {}),
        ok: true,
        output: out.slice(0, 2000),
      });
      event('action', s.description, out ? { output: out.slice(0, 500) } : undefined);
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      journal.actions.push({
        t: rel(),
        phase: currentPhase,
        description: s.description,
        ...(s.command ? { command: s.command } : {}),
        ok: false,
        output: message.slice(0, 2000),
      });
      event('error', `${s.description} failed: ${message}`);
      print(`      ✗ ${message}`);
      return false;
    }
  };

  const evaluators: Evaluator[] = plan.expectations.map((e, i) => ({ expectation: e, result: journal.expectations[i] as ExpectationResult }));
  let traffic: Traffic | undefined;
  let injected = false;
  const seenNotifications = new Set<string>();
  const firstActive = new Map<string, number>();

  const pollAlerts = async () => {
    const [prom, am] = await Promise.all([promAlerts(target.prometheusUrl).catch(() => []), amAlerts(target.alertmanagerUrl).catch(() => [])]);
    const names = new Set(
      plan.expectations.filter((e) => e.kind === 'alert-fires' || e.kind === 'alert-silent').map((e) => (e as { alertname: string }).alertname),
    );
    for (const name of names) {
      const p = prom.filter((a) => a.labels.alertname === name);
      const state = p.some((a) => a.state === 'firing') ? 'firing' : p.some((a) => a.state === 'pending') ? 'pending' : 'inactive';
      journal.alertStates.push({ t: rel(), alertname: name, state });
    }
    return { prom, am };
  };
  const pollSink = async () => {
    if (!target.sinkUrl) return;
    const all = await sinkNotifications(target.sinkUrl).catch(() => []);
    for (const n of all) {
      const received = Date.parse(n.receivedAt);
      if (received < origin) continue;
      // The dead man's switch fires all the time by design; it is not part of any drill.
      if (JSON.stringify(n.payload).includes('] Watchdog')) continue;
      const key = `${n.receivedAt}|${JSON.stringify(n.payload).length}`;
      if (seenNotifications.has(key)) continue;
      seenNotifications.add(key);
      const text = slackText(n.payload);
      // The title of monitoring/alertmanager/templates/slack.tmpl: "[FIRING:1] ServiceDown · critical · auth".
      const title = n.payload.attachments?.[0]?.title ?? text.split('\n')[0] ?? '';
      const head = /^\[(FIRING|RESOLVED)(?::\d+)?\]\s+(\S+)/.exec(title);
      const status = head ? (head[1] === 'RESOLVED' ? 'resolved' : 'firing') : /\bresolved\b/i.test(text) && !/\bfiring\b/i.test(text) ? 'resolved' : 'firing';
      const alertnames = head ? [head[2] as string] : [...new Set(text.match(/\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+\b/g) ?? [])];
      // "… · severity · service": the second and third parts (each severity has its own route, so a group has one).
      const [, severity, service] = head ? title.split(' · ').map((part) => part.trim()) : [];
      journal.notifications.push({
        receivedAt: n.receivedAt,
        t: received - origin,
        status,
        alertnames,
        ...(severity ? { severity } : {}),
        ...(service ? { service } : {}),
        text,
        runbookUrls: runbookLinks(text),
        ...(n.payload.channel ? { channel: n.payload.channel } : {}),
      });
      event('notification', `Slack sink received a ${status} notification`, { channel: n.payload.channel, excerpt: text.slice(0, 300) });
      print(`    ✉ Slack sink: ${status} ${text.split('\n')[0]?.slice(0, 100) ?? ''}`);
    }
  };
  const recordQueries = async () => {
    await Promise.all(
      journal.queries.map(async (q) => {
        const result = await promQuery(target.prometheusUrl, q.promql).catch(() => undefined);
        const value =
          result && result.length > 0 ? result.reduce((m, s) => (Number.isFinite(s.value) ? Math.max(m, s.value) : m), Number.NEGATIVE_INFINITY) : null;
        q.points.push({ t: rel(), value: value === null || !Number.isFinite(value) ? null : value, series: result?.length ?? 0 });
      }),
    );
  };

  try {
    if (target.connect) await target.connect(ctx);
    // 1. steady state -------------------------------------------------------------------------------
    phase('steady-state');
    const problems: string[] = [];
    if (!(await ready(target.prometheusUrl, '/-/ready'))) problems.push(`Prometheus does not answer at ${target.prometheusUrl} (start it: npm run observe)`);
    if (!(await ready(target.alertmanagerUrl, '/-/ready')))
      problems.push(`Alertmanager does not answer at ${target.alertmanagerUrl} (start it: npm run observe)`);
    if (problems.length === 0) {
      // Alerts of an earlier drill (or a real problem) still active: wait for them to resolve, up to a bound.
      // Only the alerts this plan watches (fires or stays silent) must have resolved. SLO burn-rate alerts
      // look back over minutes to hours (days at real time): an earlier drill's burn keeps them open long
      // after it ended, and unless this drill watches them they decide none of its expectations.
      const watched = plan.expectations.filter((e) => e.kind === 'alert-fires' || e.kind === 'alert-silent');
      const blocks = (a: { labels: Record<string, string> }) => watched.some((e) => e.alertname === a.labels.alertname && labelsMatch(a.labels, e.labels));
      const settleUntil = Date.now() + (target.settleMs ?? 0);
      for (;;) {
        const active = (await amAlerts(target.alertmanagerUrl).catch(() => [])).filter(
          (a) => a.labels.alertname !== 'Watchdog' && a.status.state === 'active' && blocks(a),
        );
        if (active.length === 0) break;
        if (Date.now() >= settleUntil || abort.signal.aborted) {
          problems.push(
            `alerts already firing: ${[...new Set(active.map((a) => `${a.labels.alertname}${a.labels.service ? `{service="${a.labels.service}"}` : ''}`))].join(', ')}`,
          );
          break;
        }
        await sleep(1000, abort.signal);
      }
    }
    if (problems.length === 0) {
      const am = await amAlerts(target.alertmanagerUrl).catch(() => []);
      for (const e of plan.expectations) {
        if (e.kind !== 'alert-fires') continue;
        if (am.some((a) => a.labels.alertname === e.alertname && labelsMatch(a.labels, e.labels)))
          problems.push(`${e.alertname} is already firing: its detection could not be measured`);
      }
    }
    if (problems.length === 0) problems.push(...(await lastingHealthProblems(target, ctx, abort.signal)));
    if (problems.length === 0) {
      try {
        traffic = await startTraffic({ gatewayUrl: target.gatewayUrl, origin, phase: () => currentPhase, ratePerSecond: options.ratePerSecond ?? 8 });
        journal.traffic = traffic.samples;
        ctx.log(`synthetic user ${traffic.user.email} registered, logged in and uploaded a picture`);
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (problems.length === 0 && traffic) {
      const steadyMs = options.steadyStateMs ?? 6000;
      const from = rel();
      await sleep(steadyMs, abort.signal);
      await Promise.all([recordQueries(), pollAlerts()]);
      const window = traffic.samples.filter((s) => s.t >= from);
      problems.push(...steadyTrafficProblems(window, options));
      journal.expectations.unshift({
        id: 'steady-state',
        kind: 'steady-state',
        description: 'Steady state before injection',
        why: 'A drill on an unhealthy platform measures nothing; it does not start.',
        check: `traffic success ≥ ${((options.steadyMinSuccessRatio ?? STEADY_STATE_DEFAULTS.minSuccessRatio) * 100).toFixed(0)}% and p95 ≤ ${options.steadyMaxP95Ms ?? STEADY_STATE_DEFAULTS.maxP95Ms} ms per class; all targets up; no expected alert firing`,
        bound: fmtMs(steadyMs),
        status: problems.length === 0 ? 'passed' : 'failed',
        observed: problems.length === 0 ? describeSummary(summarize(window)) : problems.join('; '),
      });
    }
    if (problems.length > 0) {
      if (!journal.expectations.some((e) => e.id === 'steady-state')) {
        journal.expectations.unshift({
          id: 'steady-state',
          kind: 'steady-state',
          description: 'Steady state before injection',
          why: 'A drill on an unhealthy platform measures nothing; it does not start.',
          check: 'observability stack answers, all targets up, synthetic user can sign up',
          status: 'failed',
          observed: problems.join('; '),
        });
      }
      failPhase(problems.join('; '));
      for (const p of problems) print(`    ✗ ${p}`);
      journal.result = 'not-started';
      journal.reason = `steady state not met: ${problems.join('; ')}`;
      return journal;
    }
    print(`    ✓ steady: ${describeSummary(summarize(traffic?.samples ?? []))}`);

    // 2. inject ---------------------------------------------------------------------------------------
    phase('inject');
    injected = true;
    let injectOk = true;
    for (const s of plan.inject) {
      if (!(await runStep(s))) {
        injectOk = false;
        break;
      }
    }
    journal.markers.injectedAt = rel();
    const budgetAtStart = plan.budget ? await budgetRemaining(target.prometheusUrl, plan.budget) : undefined;
    if (!injectOk) {
      failPhase('an injection step failed');
      journal.reason = 'injection failed';
    } else {
      // 3. observe ------------------------------------------------------------------------------------
      phase('observe');
      const injectedAt = journal.markers.injectedAt;
      const pollMs = options.pollMs ?? 1000;
      let lastQuery = 0;
      for (;;) {
        const elapsed = rel() - injectedAt;
        const { am, prom } = await pollAlerts();
        await pollSink();
        if (rel() - lastQuery >= 2000) {
          lastQuery = rel();
          await recordQueries();
        }
        for (const ev of evaluators) {
          if (ev.result.status !== 'not-run' && ev.result.status !== 'pending') continue;
          ev.result.status = 'pending';
          const e = ev.expectation;
          if (e.kind === 'alert-fires') {
            const active = am.filter((a) => a.labels.alertname === e.alertname && labelsMatch(a.labels, e.labels));
            if (active.length > 0 && !firstActive.has(e.id)) {
              firstActive.set(e.id, rel());
              event(
                'alert',
                `${e.alertname} active in Alertmanager`,
                active.map((a) => ({ labels: a.labels, state: a.status.state, receivers: a.receivers.map((r) => r.name) })),
              );
              print(`    ⚑ ${e.alertname} active in Alertmanager after ${fmtMs(rel() - injectedAt)}`);
            }
            const activeAt = firstActive.get(e.id);
            const note =
              target.sinkUrl && e.notification
                ? journal.notifications.find(
                    (n) =>
                      n.status === 'firing' && notificationIsAbout(n, e.alertname, e.labels) && n.runbookUrls.some((u) => u.endsWith(`/${e.alertname}.md`)),
                  )
                : undefined;
            const delivered = !e.notification || !target.sinkUrl || note !== undefined;
            if (activeAt !== undefined && delivered) {
              ev.result.status = 'passed';
              ev.result.measuredMs = activeAt - injectedAt;
              const receivers = [...new Set(active.flatMap((a) => a.receivers.map((r) => r.name)))].join(', ');
              ev.result.observed = `active after ${fmtMs(activeAt - injectedAt)} (receivers: ${receivers || 'n/a'})${note ? `; Slack sink got it after ${fmtMs(note.t - injectedAt)} with runbook ${note.runbookUrls.find((u) => u.endsWith(`/${e.alertname}.md`))}` : ''}`;
            } else if (elapsed > e.withinMs) {
              ev.result.status = 'failed';
              const pending = prom.some((a) => a.labels.alertname === e.alertname && a.state === 'pending');
              ev.result.observed =
                activeAt === undefined
                  ? `not active in Alertmanager within ${fmtMs(e.withinMs)}${pending ? ' (pending in Prometheus)' : ''}`
                  : `active after ${fmtMs(activeAt - injectedAt)} but no firing notification with a runbook link ending in /${e.alertname}.md reached the Slack sink`;
            }
          } else if (e.kind === 'alert-silent') {
            const firing = prom.filter((a) => a.labels.alertname === e.alertname && a.state === 'firing' && labelsMatch(a.labels, e.labels));
            if (firing.length > 0) {
              ev.result.status = 'failed';
              ev.result.observed = `fired after ${fmtMs(elapsed)}: ${JSON.stringify(firing[0]?.labels)}`;
            }
          } else if (e.kind === 'promql') {
            const res = await promQuery(target.prometheusUrl, e.query).catch(() => []);
            if (res.length > 0) {
              ev.result.status = 'passed';
              ev.result.measuredMs = elapsed;
              ev.result.observed = `after ${fmtMs(elapsed)}: ${res
                .slice(0, 3)
                .map((r) => `${fmtLabels(r.metric)} ${round(r.value)}`)
                .join('; ')}`;
            } else if (elapsed > e.withinMs) {
              ev.result.status = 'failed';
              ev.result.observed = `no series within ${fmtMs(e.withinMs)}`;
            }
          } else if (e.kind === 'probe') {
            const seen = await e.probe(ctx).catch((err: Error) => {
              event('error', `probe ${e.id}: ${err.message}`);
              return undefined;
            });
            if (seen !== undefined) {
              ev.result.status = 'passed';
              ev.result.measuredMs = elapsed;
              ev.result.observed = `after ${fmtMs(elapsed)}: ${seen}`;
            } else if (elapsed > e.withinMs) {
              ev.result.status = 'failed';
              ev.result.observed = `not observed within ${fmtMs(e.withinMs)}`;
            }
          }
        }
        const undecided = evaluators.some(
          (ev) => ev.result.status === 'pending' && ev.expectation.kind !== 'alert-silent' && ev.expectation.kind !== 'traffic',
        );
        if (abort.signal.aborted) break;
        if (!undecided && elapsed >= plan.minObserveMs) break;
        if (elapsed >= plan.maxObserveMs) break;
        await sleep(pollMs, abort.signal);
      }
      const observed = (traffic?.samples ?? []).filter((s) => s.phase === 'observe' || s.phase === 'inject');
      for (const ev of evaluators) {
        const e = ev.expectation;
        if (e.kind === 'alert-silent' && ev.result.status === 'pending') {
          ev.result.status = 'passed';
          ev.result.observed = `silent for ${fmtMs(rel() - injectedAt)}`;
        }
        if (e.kind === 'traffic') judgeTraffic(e, ev.result, observed);
        if (ev.result.status === 'pending') {
          ev.result.status = 'failed';
          ev.result.observed = abort.signal.aborted ? 'aborted before it was decided' : 'undecided when observation ended';
        }
        print(`    ${ev.result.status === 'passed' ? '✓' : '✗'} ${e.id}: ${ev.result.observed}`);
      }
      if (plan.budget) {
        journal.budget = await measureBudget(target.prometheusUrl, plan.budget, rel() - injectedAt, Number(target.environment.timeScale ?? 1), budgetAtStart);
        print(`    · error budget: ${journal.budget.derivation}`);
      }
      const times = [...firstActive.values()].map((t) => t - injectedAt);
      if (times.length > 0) journal.timeToDetectMs = Math.min(...times);
      if (abort.signal.aborted) failPhase('aborted (Ctrl-C)');
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    event('error', `drill error: ${message}`);
    print(`    ✗ ${message}`);
    journal.reason = message;
    failPhase(message);
  } finally {
    // 4. rollback, always once anything was injected ------------------------------------------------
    if (injected) {
      phase('rollback');
      journal.markers.rollbackAt = rel();
      let rollbackOk = true;
      for (const s of plan.rollback) rollbackOk = (await runStep(s)) && rollbackOk;
      if (!rollbackOk) failPhase('a rollback step failed: check the platform by hand');
      phase('recover');
      await recover(plan, target, ctx, journal, traffic, rel, print, { pollAlerts, pollSink, recordQueries });
    }
    await traffic?.stop();
    phase('report');
    if (target.traceSpans && journal.markers.injectedAt !== undefined) {
      // The failures while the fault was on and until recovery, each with the hop its trace shows failing.
      const window = { fromMs: journal.markers.injectedAt, toMs: journal.markers.recoveredAt ?? rel() };
      journal.failedRequestTraces = failedRequestTraces(journal.traffic, window, (id) => target.traceSpans?.(id));
      if (target.traceViewUrl) journal.traceViewUrl = target.traceViewUrl;
    }
    for (const source of plan.logSources) {
      const lines = await target.logs?.(source, origin).catch(() => []);
      if (lines && lines.length > 0) journal.logs.push({ source, lines: lines.slice(-80) });
    }
    const consoleLines = target.consoleLines?.(origin);
    if (consoleLines) journal.console = consoleLines;
    await target.disconnect?.().catch(() => undefined);
    const open = journal.phases.at(-1);
    if (open && open.status === 'running') {
      open.status = 'ok';
      open.t1 = rel();
    }
    journal.finishedAt = new Date().toISOString();
    if (journal.result !== 'not-started') {
      const allPassed = journal.expectations.every((e) => e.status === 'passed');
      journal.result = abort.signal.aborted ? 'aborted' : allPassed && !journal.reason ? 'passed' : 'failed';
      if (!allPassed && !journal.reason)
        journal.reason = `expectations failed: ${journal.expectations
          .filter((e) => e.status !== 'passed')
          .map((e) => e.id)
          .join(', ')}`;
    }
  }
  return journal;
}

function judgeTraffic(e: Extract<Expectation, { kind: 'traffic' }>, result: ExpectationResult, samples: readonly TrafficSample[]): void {
  const relevant = samples.filter((s) => e.classes.includes(s.cls));
  const s = summarize(relevant);
  const problems: string[] = [];
  if (s.total === 0) problems.push('no requests completed');
  if (e.minSuccessRatio !== undefined && s.successRatio < e.minSuccessRatio)
    problems.push(`success ${(s.successRatio * 100).toFixed(1)}% < ${(e.minSuccessRatio * 100).toFixed(1)}%`);
  if (e.maxSuccessRatio !== undefined && s.successRatio > e.maxSuccessRatio)
    problems.push(`success ${(s.successRatio * 100).toFixed(1)}% > ${(e.maxSuccessRatio * 100).toFixed(1)}% (the fault was not visible)`);
  if (e.failureStatuses) {
    const other = relevant.filter((x) => !x.ok && !e.failureStatuses?.includes(x.status));
    if (other.length > 0) problems.push(`${other.length} failures with other statuses (${[...new Set(other.map((x) => x.status || x.code))].join(', ')})`);
  }
  if (e.maxFailureP95Ms !== undefined && s.failureP95Ms > e.maxFailureP95Ms)
    problems.push(`failures slow: p95 ${Math.round(s.failureP95Ms)} ms > ${e.maxFailureP95Ms} ms`);
  result.status = problems.length === 0 ? 'passed' : 'failed';
  result.observed = `${describeSummary(s)}${problems.length ? ` — ${problems.join('; ')}` : ''}`;
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function fmtLabels(m: Record<string, string>): string {
  const entries = Object.entries(m).filter(([k]) => k !== '__name__');
  return entries.length ? `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}` : '{}';
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/**
 * Scrape targets down and unready services, if they stay so. On a busy machine one readiness check or
 * scrape can miss its timeout while the platform is fine (a fresh-clone CI saw exactly that); a drill
 * refuses to start only when a problem is still there after STEADY_HEALTH_GRACE_MS of re-checking.
 */
export async function lastingHealthProblems(target: Target, ctx: DrillContext, signal: AbortSignal, graceMs = STEADY_HEALTH_GRACE_MS): Promise<string[]> {
  const until = Date.now() + graceMs;
  for (;;) {
    const found: string[] = [];
    const down = await promQuery(target.prometheusUrl, 'up == 0').catch((err: Error): PromSample[] => [{ metric: { error: err.message }, value: 0 }]);
    for (const d of down) found.push(`scrape target down: ${d.metric.job ?? ''} ${d.metric.instance ?? d.metric.error ?? ''}`.trim());
    if (target.healthProblems) found.push(...(await target.healthProblems(ctx)));
    if (found.length === 0) return [];
    if (Date.now() >= until || signal.aborted) return found.map((p) => `${p} (still after ${fmtMs(graceMs)} of re-checking)`);
    await sleep(Math.min(2000, graceMs / 4), signal);
  }
}
