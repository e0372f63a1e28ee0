import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { startPrometheus, type ServerProcess } from '@sre/monitoring/testing';
import { prometheusPage } from '../src/links.js';
import { startLocalViews, type LocalViews } from '../src/views.js';
import { DASHBOARDS_DIR, clusterSources, listDashboards, readDashboard } from '../src/viewer/dashboards.js';
import { isAllowedPrometheusPath } from '../src/viewer/prom-proxy.js';
import { startViewer } from '../src/viewer/server.js';
import { otlpTrace } from './otlp-fixture.js';

const scratch = mkdtempSync(join(tmpdir(), 'observe-viewer-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('viewer: which panels need a cluster', () => {
  it('flags kube-state-metrics, kubelet, cAdvisor and MinIO metrics, and nothing the services export', () => {
    assert.deepEqual(clusterSources('sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace=~"$namespace"}[1h]))'), ['kube-state-metrics']);
    assert.deepEqual(clusterSources('sum(rate(prober_probe_total[$__rate_interval]))'), ['kubelet']);
    assert.deepEqual(clusterSources('max(kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes)'), ['kubelet']);
    assert.deepEqual(clusterSources('sum(rate(container_cpu_usage_seconds_total[5m])) / sum(kube_pod_container_resource_limits)'), [
      'cAdvisor (kubelet)',
      'kube-state-metrics',
    ]);
    assert.deepEqual(clusterSources('max(minio_cluster_usage_total_bytes{job="platform"})'), ['MinIO']);
    assert.deepEqual(
      clusterSources('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval])))'),
      [],
    );
  });

  it('marks every query of the Kubernetes dashboard, and none of Service RED', () => {
    type Target = { clusterSources: string[] };
    const targets = (uid: string) => ((readDashboard(uid)?.panels as Array<{ targets?: Target[] }>) ?? []).flatMap((p) => p.targets ?? []);
    assert.ok(targets('sre-kubernetes').length > 10);
    for (const t of targets('sre-kubernetes')) assert.ok(t.clusterSources.length > 0, JSON.stringify(t));
    for (const t of targets('sre-service-red')) assert.deepEqual(t.clusterSources, []);
  });
});

describe('viewer: dashboards are the files Grafana loads, read at request time', () => {
  it('lists every dashboard of monitoring/grafana/dashboards', () => {
    assert.deepEqual(
      listDashboards()
        .map((d) => d.uid)
        .sort(),
      ['sre-business', 'sre-kubernetes', 'sre-service-red', 'sre-slo', 'sre-system-health'],
    );
    assert.equal(DASHBOARDS_DIR.endsWith(join('monitoring', 'grafana', 'dashboards')), true);
  });
});

const noPrometheus = requireTool('prometheus', 'apt-get install prometheus').skip;

describe('viewer: the server', { skip: noPrometheus }, () => {
  let prom: ServerProcess;
  let views: LocalViews;
  const dir = join(scratch, 'dashboards');

  before(async () => {
    writeFileSync(
      join(scratch, 'prometheus.yml'),
      'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: []\n',
    );
    prom = await startPrometheus(join(scratch, 'prometheus.yml'), join(scratch, 'tsdb'));
    mkdirSync(dir);
    copyFileSync(join(DASHBOARDS_DIR, 'sre-service-red.json'), join(dir, 'sre-service-red.json'));
    // Serves the real folder; a second viewer on a copy checks the reading at request time.
    views = await startLocalViews({ prometheusUrl: prom.url, scrapeIntervalSeconds: 1 });
  });
  after(async () => {
    await views?.close();
    await prom?.stop();
  });

  it('proxies only the read endpoints of Prometheus, GET only', async () => {
    for (const path of ['/api/v1/query', '/api/v1/query_range', '/api/v1/series', '/api/v1/labels', '/api/v1/label/service/values', '/api/v1/query_exemplars'])
      assert.ok(isAllowedPrometheusPath(path), path);
    const ok = await fetch(`${views.viewerUrl}/api/prom/api/v1/query?query=vector(42)`);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1], '42');
    const bad = await fetch(`${views.viewerUrl}/api/prom/api/v1/query?query=sum(`);
    assert.equal(bad.status, 400, 'Prometheus query errors reach the page as they are');
    for (const path of ['/api/v1/admin/tsdb/snapshot', '/-/reload', '/-/quit', '/api/v1/status/config', '/api/v1/query/../admin/tsdb/snapshot']) {
      const res = await fetch(`${views.viewerUrl}/api/prom${path}`, { method: 'GET' });
      assert.equal(res.status, 404, path);
    }
    assert.equal((await fetch(`${views.viewerUrl}/api/prom/api/v1/query`, { method: 'POST', body: 'query=up' })).status, 404);
  });

  it('serves the page with a CSP of its own origin only, and uPlot from node_modules (no CDN)', async () => {
    const page = await fetch(views.viewerUrl);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'nothing loaded from elsewhere');
    const script = await (await fetch(`${views.viewerUrl}/assets/app.js`)).text();
    assert.match(script, /uPlot|u-legend/, 'uPlot is in the bundle');
    assert.equal((await fetch(`${views.viewerUrl}/assets/uPlot.min.css`)).status, 200);
    for (const path of ['/d/sre-service-red', '/traces', '/traces/0123']) assert.equal((await fetch(`${views.viewerUrl}${path}`)).status, 200, path);
  });

  it('reads a dashboard file at every request: a regenerated dashboard shows without a restart', async () => {
    const viewer = await startViewer({ prometheusUrl: prom.url, store: views.store, scrapeIntervalSeconds: 1, dashboardsDir: dir });
    try {
      const first = (await (await fetch(`${viewer.url}/api/dashboards/sre-service-red`)).json()) as { title: string };
      assert.equal(first.title, 'Service RED');
      const file = join(dir, 'sre-service-red.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"title": "Service RED"', '"title": "Service RED (regenerated)"'));
      const second = (await (await fetch(`${viewer.url}/api/dashboards/sre-service-red`)).json()) as { title: string };
      assert.equal(second.title, 'Service RED (regenerated)');
      assert.equal((await fetch(`${viewer.url}/api/dashboards/nope`)).status, 404);
    } finally {
      await viewer.close();
    }
  });

  it('receives OTLP/HTTP and lists traces recent, slowest and with errors', async () => {
    const fast = otlpTrace({ traceId: 'a'.repeat(32), durationMs: 5, failing: false });
    const slow = otlpTrace({ traceId: 'b'.repeat(32), durationMs: 900, failing: true });
    for (const body of [fast, slow]) {
      const res = await fetch(`${views.otlpEndpoint}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
    }
    assert.equal((await fetch(views.otlpEndpoint)).status, 200, 'the printed endpoint answers a GET');
    const list = async (order: string) =>
      ((await (await fetch(`${views.viewerUrl}/api/traces?order=${order}`)).json()) as Array<{ traceId: string; spanCount: number; errorCount: number }>).map(
        (t) => t.traceId,
      );
    assert.deepEqual(await list('slowest'), ['b'.repeat(32), 'a'.repeat(32)]);
    assert.deepEqual(await list('errors'), ['b'.repeat(32)]);
    assert.equal((await fetch(`${views.viewerUrl}/api/traces?order=worst`)).status, 400);
    const spans = (await (await fetch(`${views.viewerUrl}/api/traces/${'b'.repeat(32)}`)).json()) as Array<{ service: string; status: string }>;
    assert.deepEqual(
      spans.map((s) => `${s.service}:${s.status}`),
      ['gateway:error', 'images:error', 'images:unset'],
    );
    assert.equal((await fetch(`${views.viewerUrl}/api/traces/${'c'.repeat(32)}`)).status, 404);
  });

  it('links to the Prometheus pages that answer: the classic UI on Debian', async () => {
    for (const page of ['alerts', 'targets'] as const) {
      const url = await prometheusPage(prom.url, page);
      assert.equal((await fetch(url)).status, 200, url);
      assert.match(url, new RegExp(`/${page}$`));
    }
  });
});
