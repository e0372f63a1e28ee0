import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool, suiteFixture, waitFor } from '@sre/testkit';
import type { BrowserContext, Page } from 'playwright-core';
import { clearFault, setFault } from '@sre/drills/chaos-client';
import { startLocalPlatform, type LocalPlatform } from '@sre/drills/local-platform';
import { startTraffic, tinyPng, type Traffic } from '@sre/drills/traffic';
import { REPO_ROOT } from '../src/config.js';
import { listDashboards } from '../src/viewer/dashboards.js';
import { startLocalViews, type LocalViews } from '../src/views.js';
import { launchChromium, openDashboard, startReplayPrometheus, startUploads, type PanelState } from './browser-helpers.js';
import { otlpTrace } from './otlp-fixture.js';
import { startClusterReplay } from './replay-cluster.js';

/**
 * Every dashboard of monitoring/grafana/dashboards in real headless Chromium, as `npm run observe`
 * serves it: first against the local platform of the drills under traffic with a fault on (so
 * error and alert panels have something to show), where every panel must show data except those
 * whose metrics only a cluster has, which must say "needs a cluster"; then those same panels
 * against replayed kube-state-metrics, kubelet and cAdvisor series, where they must show data.
 * Screenshots go to test-results/observe-*.png.
 */

const skip =
  requireTool('chromium', 'apt-get install chromium').skip ||
  requireTool('prometheus', 'apt-get install prometheus').skip ||
  requireTool('prometheus-alertmanager', 'apt-get install prometheus-alertmanager').skip;
const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const scratch = mkdtempSync(join(tmpdir(), 'observe-browser-'));
// PostgreSQL runs as the postgres user (runuser when we are root) and must reach the platform's folder.
chmodSync(scratch, 0o755);

const describeStates = (states: PanelState[]) => states.map((s) => `  [${s.state}] ${s.title}: ${s.text}`).join('\n');

describe('the dashboards and trace view in headless Chromium', { skip, timeout: 900_000 }, () => {
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    ({ context, page, pageErrors } = await launchChromium(join(scratch, 'profile')));
  });
  after(async () => {
    await context?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('against replayed cluster series', () => {
    let replay: Awaited<ReturnType<typeof startClusterReplay>>;
    let prom: Awaited<ReturnType<typeof startReplayPrometheus>>;
    let views: LocalViews;
    before(async () => {
      replay = await startClusterReplay(TRACE_ID);
      prom = await startReplayPrometheus(join(scratch, 'replay'), [
        { job: 'kube-state-metrics', address: replay.address, path: '/metrics' },
        { job: 'platform', address: replay.address, path: '/openmetrics', labels: { service: 'gateway', pod: 'gateway-1' } },
      ]);
      views = await startLocalViews({ prometheusUrl: prom.url, scrapeIntervalSeconds: 1 });
      await fetch(`${views.otlpEndpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(otlpTrace({ traceId: TRACE_ID, durationMs: 300, failing: true })),
      });
      // Enough samples for rate(), increase() and changes() over the 4 s rate interval.
      await waitFor(
        async () => {
          const res = (await (
            await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('changes(kube_horizontalpodautoscaler_status_desired_replicas[1m]) > 0')}`)
          ).json()) as { data: { result: unknown[] } };
          return res.data.result.length > 0;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: 'replayed series to be scraped for a while' },
      );
    });
    after(async () => {
      await views?.close();
      await prom?.stop();
      await replay?.close();
    });

    it('every panel of the Kubernetes dashboard shows data from kube-state-metrics, the kubelet and cAdvisor', async () => {
      const states = await openDashboard(
        page,
        views.viewerUrl,
        'sre-kubernetes',
        'from=now-5m&to=now&refresh=off',
        join(RESULTS_DIR, 'observe-sre-kubernetes-replayed.png'),
      );
      assert.ok(states.length >= 14, describeStates(states));
      assert.deepEqual(
        states.filter((s) => s.state !== 'data'),
        [],
        `panels without data:\n${describeStates(states)}`,
      );
      assert.ok(states.find((s) => s.title === 'Containers waiting, by reason')?.text.includes('CrashLoopBackOff'));
      assert.ok(states.find((s) => s.title === 'Pods ready')?.text.includes('not ready'), 'value mappings drawn');
      assert.deepEqual(pageErrors, []);
    });

    it('the time range picker, a variable and auto-refresh change what is queried', async () => {
      await openDashboard(page, views.viewerUrl, 'sre-kubernetes', 'from=now-5m&to=now&refresh=5s', join(RESULTS_DIR, 'observe-controls.png'));
      // Auto-refresh: another round of queries comes without any action (waited for, not timed).
      await page.waitForRequest((r) => r.url().includes('/api/prom/api/v1/query_range'), { timeout: 30_000 });
      await page.selectOption('select[name="from"]', 'now-15m');
      await page.waitForURL(/from=now-15m/);
      await page.locator('details[data-variable="namespace"] summary').click();
      const scoped = page.waitForRequest((r) => r.url().includes('/api/prom/api/v1/') && decodeURIComponent(r.url()).includes('namespace=~"sre"'), {
        timeout: 30_000,
      });
      await page.locator('details[data-variable="namespace"] input[value="sre"]').check();
      await page.waitForURL(/var-namespace=sre/);
      await scoped;
      await page.waitForFunction(() => document.querySelectorAll('section.panel[data-state="loading"]').length === 0);
      assert.equal(await page.locator('section.panel[data-state="data"]').count(), await page.locator('section.panel').count());
      assert.match((await page.locator('details[data-variable="namespace"] summary').textContent()) ?? '', /Namespace: sre/);
      assert.deepEqual(pageErrors, []);
    });

    it('a latency exemplar links to its trace, shown as a waterfall with the failing hops marked', async () => {
      await openDashboard(page, views.viewerUrl, 'sre-service-red', 'from=now-5m&to=now&refresh=off', join(RESULTS_DIR, 'observe-exemplars.png'));
      const link = page.locator(`section.panel[data-title="Latency p50 / p90 / p99"] a.exemplar[href="/traces/${TRACE_ID}"]`).first();
      await link.waitFor({ timeout: 30_000 });
      await link.click();
      await page.waitForURL(`**/traces/${TRACE_ID}`);
      const rows = page.locator('.span-row');
      await rows.nth(2).waitFor();
      const labels = await page.$$eval('.span-row .span-label', (ls) =>
        ls.map((l) => ({ text: l.textContent, indent: parseInt((l as HTMLElement).style.paddingLeft || '0', 10) })),
      );
      assert.deepEqual(labels, [
        { text: 'gateway: POST /api/images', indent: 0 },
        { text: 'images: POST /images', indent: 16 },
        { text: 'images: pg.query INSERT', indent: 32 },
      ]);
      assert.equal(await page.locator('.span-row.error-span').count(), 2, 'gateway and images spans are marked as errors');
      await rows.nth(1).click();
      const details = await page.locator('.span-details').textContent();
      assert.match(details ?? '', /"statusMessage": "database unavailable"/);
      assert.match(details ?? '', /"http.route": "\/images"/);
      await page.screenshot({ path: join(RESULTS_DIR, 'observe-trace.png'), fullPage: true });
      await page.goto(`${views.viewerUrl}/traces?order=errors`);
      await page.locator(`a.trace-link[href="/traces/${TRACE_ID}"]`).waitFor();
      assert.deepEqual(pageErrors, []);
    });
  });

  describe('against the local platform under traffic, with a fault on', () => {
    let platform: LocalPlatform | undefined;
    let traffic: Traffic | undefined;
    let uploads: Awaited<ReturnType<typeof startUploads>> | undefined;
    const output: string[] = [];
    // The viewer and trace store of npm run observe, which the drill platform runs beside its Prometheus.
    const views = suiteFixture<LocalViews>('the local platform under traffic, with a fault on', startUnderFault, () => [
      ...output,
      ...(platform?.launcherLines ?? []),
    ]);
    async function startUnderFault(): Promise<LocalViews> {
      // Time scale 20 (as the drills' tests): alerts' for: and the SLO windows pass in seconds.
      const p = (platform = await startLocalPlatform({ dataDir: join(scratch, 'platform'), timeScale: 20, say: (l) => output.push(l) }));
      traffic = await startTraffic({ gatewayUrl: p.gatewayUrl, origin: Date.now(), phase: () => 'observe', ratePerSecond: 8 });
      uploads = await startUploads(p.gatewayUrl, tinyPng());
      // Half of Images' answers fail: 5xx, burn-rate and error-ratio panels and the firing-alert tables have rows.
      for (const i of p.instances('images')) await setFault(i.managementUrl, p.chaosToken, 'errors', { durationMs: 300_000, share: 0.5 });
      const firing = async (expr: string) =>
        ((await (await fetch(`${p.observe.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: unknown[] } }).data
          .result.length > 0;
      // The panels need data as well as alerts: on a busy machine the alerts can fire before half-failing
      // uploads have put any processing time in the window (CI run 15: "Image processing p99" empty).
      await waitFor(
        async () =>
          (await firing('ALERTS{alertstate="firing", alertname!="Watchdog"}')) &&
          (await firing('ALERTS{alertname=~"SLO.*BudgetBurn"}')) &&
          (await firing('sum(increase(images_processing_duration_seconds_count{job="platform"}[1m])) > 0')),
        { timeoutMs: 240_000, intervalMs: 2000, what: 'an alert firing, an SLO burn alert and images processed in the last minute' },
      );
      return p.views;
    }
    before(views.start);
    after(async () => {
      if (platform) for (const i of platform.instances('images')) await clearFault(i.managementUrl, platform.chaosToken, 'errors').catch(() => undefined);
      await traffic?.stop();
      await uploads?.stop();
      await platform?.stop();
    });

    for (const dashboard of listDashboards()) {
      it(`${dashboard.title}: every panel shows data, or says it needs a cluster`, async () => {
        const states = await openDashboard(
          page,
          views.get().viewerUrl,
          dashboard.uid,
          'from=now-15m&to=now&refresh=off',
          join(RESULTS_DIR, `observe-${dashboard.uid}.png`),
        );
        assert.ok(states.length > 0);
        assert.deepEqual(
          states.filter((s) => s.state === 'error' || s.state === 'empty' || s.state === 'loading'),
          [],
          `panels with a query error or no data:\n${describeStates(states)}`,
        );
        for (const s of states.filter((x) => x.state === 'cluster'))
          assert.match(s.text, /needs a cluster: these metrics come from (kube-state-metrics|kubelet|cAdvisor)/, s.title);
        if (dashboard.uid === 'sre-kubernetes')
          assert.deepEqual(
            states.filter((s) => s.state !== 'cluster'),
            [],
            'locally, every Kubernetes panel needs a cluster',
          );
        else
          assert.deepEqual(
            states.filter((s) => s.state !== 'data'),
            [],
            `only the Kubernetes dashboard needs a cluster:\n${describeStates(states)}`,
          );
        assert.deepEqual(pageErrors, []);
      });
    }
  });
});
