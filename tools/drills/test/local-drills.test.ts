import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool, suiteFixture } from '@sre/testkit';
import { clearFault, setFault } from '../src/chaos-client.js';
import { startLocalPlatform, type LocalPlatform } from '../src/local-platform.js';
import { writeReport } from '../src/report/write.js';
import { runDrill } from '../src/runner.js';
import { alertFires, scenariosFor } from '../src/scenarios.js';
import { LocalTarget, controlFor } from '../src/targets/local.js';
import { exitCodeFor } from '../src/terminal.js';
import { startTraffic } from '../src/traffic.js';
import { notificationIsAbout, SCENARIOS, type Journal, type ScenarioName, type ScenarioPlan, type Target } from '../src/types.js';

/**
 * Every local drill end to end: the services as `npm start` runs them (Images ×2), a real
 * PostgreSQL and S3 server, the real Prometheus and Alertmanager with monitoring/'s rules and
 * routing, and the Slack sink. Time scale 1/10 (docs/drills.md#time-scale): `for: 1m` → 6 s,
 * rate windows 2m → 12 s, Alertmanager group_wait 10s → 1 s; the rules' expressions, labels,
 * routes and templates are unchanged.
 */

const TIME_SCALE = 10;
const skip =
  requireTool('prometheus', 'apt-get install prometheus').skip ||
  requireTool('prometheus-alertmanager', 'apt-get install prometheus-alertmanager').skip ||
  requireTool('runuser', 'util-linux').skip;

const dir = mkdtempSync(join(tmpdir(), 'drills-local-'));
// PostgreSQL runs as the postgres user (as root we run it through runuser): it must reach its data.
chmodSync(dir, 0o755);
const launcherOutput: string[] = [];
const platform = suiteFixture<LocalPlatform>(
  'the drill platform',
  () => startLocalPlatform({ dataDir: join(dir, 'platform'), timeScale: TIME_SCALE, say: (l) => launcherOutput.push(l) }),
  () => launcherOutput,
);

function failures(journal: Journal): string {
  return journal.expectations
    .filter((e) => e.status !== 'passed')
    .map((e) => `${e.id}: ${e.observed}`)
    .join('\n');
}

async function drill(target: Target, scenario: ScenarioName, expectPass = true): Promise<Journal> {
  const lines: string[] = [];
  // A looser latency threshold than the CLI's default: the suite shares two cores with other suites.
  const journal = await runDrill(target, scenario, { steadyStateMs: 4000, steadyMaxP95Ms: 3000, print: (l) => lines.push(l) });
  writeReport(journal, join(dir, 'reports', scenario));
  if (journal.result !== 'passed' && expectPass) console.log(lines.join('\n'));
  return journal;
}

describe('local drills, end to end with real Prometheus and Alertmanager', { skip, timeout: 1_500_000 }, () => {
  before(platform.start);
  after(async () => {
    await platform.value?.stop();
    if (process.env.KEEP_DRILL_REPORTS) console.log(`drill reports kept in ${dir}/reports`);
    else rmSync(dir, { recursive: true, force: true });
  });

  for (const scenario of scenariosFor('local', SCENARIOS)) {
    it(`${scenario}: every expectation holds, and the report has the four parts`, async () => {
      const target = new LocalTarget(controlFor(platform.get()));
      const journal = await drill(target, scenario);
      assert.equal(journal.result, 'passed', `${scenario} failed:\n${failures(journal)}`);
      // Alerts reached the Slack sink with their runbook link (not only Alertmanager).
      for (const e of target.plan(scenario).expectations) {
        if (e.kind !== 'alert-fires') continue;
        const note = journal.notifications.find((n) => n.status === 'firing' && notificationIsAbout(n, e.alertname, e.labels));
        assert.ok(note, `no firing ${e.alertname} notification in the sink`);
        assert.ok(
          note.runbookUrls.some((u) => u.endsWith(`/docs/runbooks/${e.alertname}.md`)),
          `runbook link missing in: ${note.text}`,
        );
        assert.equal(note.channel, '#all-sre-project');
      }
      assert.ok(journal.traffic.length > 20, 'synthetic traffic was recorded');
      assert.ok(journal.markers.injectedAt !== undefined && journal.markers.rollbackAt !== undefined);
      assert.ok(journal.timeToRecoverMs !== undefined, 'time-to-recover measured');
      // Requests that failed during the fault come with their traces: the services' spans reached the
      // drill platform's trace store (an exporter speaking another OTLP encoding was refused with 415).
      const traced = journal.failedRequestTraces ?? [];
      if (scenario === 'error-burst') assert.ok(traced.length > 0, 'error-burst: failed requests were listed with their traces');
      if (traced.length > 0) {
        assert.ok(
          traced.some((t) => t.spanCount > 0 && t.path.includes('gateway') && t.failingHop !== undefined),
          `no failed request has the gateway's spans and a failing hop: ${JSON.stringify(traced.slice(0, 3))}`,
        );
      }
      const html = readFileSync(join(dir, 'reports', scenario, 'report.html'), 'utf8');
      assert.match(html, /<svg[^>]*>.*<polyline/s, 'time charts');
      for (const part of ['Events', 'Prometheus queries', 'Alerts as delivered', 'Logs (excerpt)']) assert.ok(html.includes(`<h2>${part}</h2>`), part);
      assert.doesNotMatch(html, /<script|<link |src="http/, 'self-contained');
      assert.ok(existsSync(join(dir, 'reports', scenario, 'report.md')) && existsSync(join(dir, 'reports', scenario, 'journal.json')));
    });
  }

  it('a platform unhealthy before injection (injected errors already on): the drill does not start and injects nothing', async () => {
    const p = platform.get();
    const images = p.instances('images');
    for (const i of images) await setFault(i.managementUrl, p.chaosToken, 'errors', { durationMs: 120_000, share: 0.5 });
    let journal: Journal;
    try {
      journal = await drill(new LocalTarget(controlFor(p)), 'readiness-failure', false);
    } finally {
      for (const i of images) await clearFault(i.managementUrl, p.chaosToken, 'errors');
    }
    assert.equal(journal.result, 'not-started', journal.reason);
    // Half the Images requests fail: either the synthetic user's first upload already fails, or the traffic
    // that follows falls below the bound. Both are the refusal this test is about, for the injected fault.
    assert.match(
      journal.reason ?? '',
      /steady state not met: .*((images|storage) traffic below the steady-state thresholds|cannot upload the drill picture through the gateway: 503 CHAOS_INJECTED_FAULT)/,
    );
    assert.equal(journal.expectations.find((e) => e.id === 'steady-state')?.status, 'failed');
    assert.deepEqual(journal.actions, [], 'nothing injected, nothing to roll back');
    assert.equal(journal.markers.injectedAt, undefined);
    assert.equal(exitCodeFor([journal], 1), 1);
    const readyz = await fetch(new URL('/readyz', images[0]?.managementUrl));
    assert.equal(readyz.status, 200, 'the readiness fault was never switched on');
  });

  it('rolling restart of a two-instance service under steady load: zero failed requests', async () => {
    const p = platform.get();
    const origin = Date.now();
    const traffic = await startTraffic({ gatewayUrl: p.gatewayUrl, origin, phase: () => 'observe', ratePerSecond: 12 });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const pids = p.instances('images').map((i) => i.pid);
      await p.restartInstance('images', 0);
      await new Promise((r) => setTimeout(r, 1000));
      await p.restartInstance('images', 1);
      await new Promise((r) => setTimeout(r, 1500));
      const after = p.instances('images').map((i) => i.pid);
      assert.ok(
        after.every((pid, i) => pid !== undefined && pid !== pids[i]),
        'both instances were restarted',
      );
    } finally {
      await traffic.stop();
    }
    const images = traffic.samples.filter((s) => s.cls !== 'auth');
    const failed = traffic.samples.filter((s) => !s.ok);
    assert.ok(images.length >= 20, `enough Images traffic during the restart (${images.length})`);
    assert.deepEqual(
      failed.map((s) => `${s.route} ${s.status} ${s.code ?? ''}`),
      [],
    );
  });

  it('a broken expectation fails the drill (an alert that cannot fire), and the drill still rolls back', async () => {
    class WithImpossibleAlert extends LocalTarget {
      override plan(scenario: ScenarioName): ScenarioPlan {
        const plan = super.plan(scenario);
        return {
          ...plan,
          expectations: [
            ...plan.expectations,
            alertFires('impossible', 'DrillAlertThatCannotFire', { service: 'images' }, 5000, 'No rule defines this alert.'),
          ],
        };
      }
    }
    const target = new WithImpossibleAlert(controlFor(platform.get()));
    const journal = await drill(target, 'readiness-failure', false);
    assert.equal(journal.result, 'failed');
    const impossible = journal.expectations.find((e) => e.id === 'impossible');
    assert.equal(impossible?.status, 'failed');
    assert.match(impossible?.observed ?? '', /not active in Alertmanager within 5 s/);
    assert.equal(exitCodeFor([journal], 1), 1);
    assert.ok(
      journal.actions.some((a) => a.phase === 'rollback' && a.ok),
      'rolled back',
    );
    const readyz = await fetch(new URL('/readyz', platform.get().instances('images')[0]?.managementUrl));
    assert.equal(readyz.status, 200, 'readiness healed by the rollback');
  });
});
