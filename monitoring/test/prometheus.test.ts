import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { freePort, waitFor } from '@sre/testkit';
import { renderLocalPrometheusConfig } from '../lib/local.js';
import { prometheusConfigFile, rulesDir } from '../lib/paths.js';
import { ruleFiles } from '../lib/rules.js';
import {
  SERVICE_NAMES,
  buildLiveService,
  exposedMetricNames,
  externalSection,
  getJson,
  needPrometheus,
  needPromtool,
  run,
  serviceAvailable,
  startPrometheus,
  tempDir,
  type LiveService,
} from './helpers.js';

/**
 * The Prometheus configuration: valid for promtool, and — with the real Prometheus scraping the real
 * services — the labels the rules rely on (job="platform", service, pod) come out the same from the
 * Kubernetes relabelling and from the local static targets, and every rule evaluates without error.
 *
 * Debian's Prometheus 2.42 is built without Kubernetes service discovery, so the cluster configuration is
 * checked with each kubernetes_sd_configs replaced by file_sd_configs; the live test feeds those file
 * targets the __meta_kubernetes_* labels Kubernetes SD produces for our pods, so the relabelling itself runs.
 */

type ScrapeConfig = Record<string, unknown> & {
  job_name: string;
  kubernetes_sd_configs?: unknown;
  file_sd_configs?: unknown;
  authorization?: { credentials_file?: string };
};
interface PromConfig {
  global: Record<string, string>;
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

/** The cluster configuration, runnable here: file SD instead of Kubernetes SD, local paths. */
function clusterConfigForTest(dir: string, options: { fast?: boolean } = {}): { file: string; sdFile: (job: string) => string } {
  const config = parse(readFileSync(prometheusConfigFile, 'utf8')) as PromConfig;
  config.rule_files = [join(rulesDir, '*.yml')];
  if (options.fast) config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  const token = join(dir, 'token');
  writeFileSync(token, 'test-token\n');
  const sdFile = (job: string) => join(dir, `sd-${job}.json`);
  for (const job of config.scrape_configs) {
    if (job.kubernetes_sd_configs) {
      delete job.kubernetes_sd_configs;
      job.file_sd_configs = [{ files: [sdFile(job.job_name)], refresh_interval: '1s' }];
      writeFileSync(sdFile(job.job_name), '[]');
    }
    if (job.authorization?.credentials_file) job.authorization.credentials_file = token;
  }
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  return { file, sdFile };
}

describe('Prometheus configuration (promtool)', () => {
  const dir = tempDir('promcfg');
  after(() => dir.remove());

  it('the cluster configuration passes promtool check config (Kubernetes SD swapped for file SD)', needPromtool(), async () => {
    const { file } = clusterConfigForTest(dir.path);
    const result = await run('promtool', ['check', 'config', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${ruleFiles().length} rule files found`));
  });

  it('the local configuration passes promtool check config', needPromtool(), async () => {
    const file = join(dir.path, 'local.yml');
    writeFileSync(
      file,
      renderLocalPrometheusConfig({
        targets: [{ service: 'auth', pod: 'auth-1', address: '127.0.0.1:9465' }],
        alertmanagers: ['127.0.0.1:9093'],
        prometheusAddress: '127.0.0.1:9090',
      }),
    );
    const result = await run('promtool', ['check', 'config', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});

describe('Prometheus scraping the real services', () => {
  const dir = tempDir('promlive');
  const services: LiveService[] = [];
  const managementPorts = new Map<string, number>();

  before(async () => {
    if (needPrometheus().skip) return;
    for (const name of SERVICE_NAMES) {
      if (!serviceAvailable(name)) {
        if (process.env.CI === 'true') throw new Error(`services/${name}/src/app.ts is missing`);
        continue;
      }
      const service = await buildLiveService(name, dir.path);
      services.push(service);
      const port = await freePort();
      await service.management.listen({ host: '127.0.0.1', port });
      managementPorts.set(name, port);
      // One request so http_requests_total has a series.
      await service.app.inject({ method: 'GET', url: '/no-such-route' });
    }
  });
  after(async () => {
    for (const s of services) await s.close().catch(() => undefined);
    dir.remove();
  });

  type Series = Array<{ metric: Record<string, string>; value: [number, string] }>;
  const query = async (prom: string, q: string) =>
    (await getJson<{ data: { result: Series } }>(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).data.result;

  const rulesHealthy = async (prom: string) => {
    type Groups = { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }> } };
    let groups: Groups['data']['groups'] = [];
    await waitFor(
      async () => {
        groups = (await getJson<Groups>(`${prom}/api/v1/rules`)).data.groups;
        return groups.length > 0 && groups.every((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001')));
      },
      { timeoutMs: 90_000, what: 'every rule evaluated once' },
    );
    const broken = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    assert.deepEqual(broken, []);
    // Every group of every rule file loaded (no file silently skipped).
    assert.equal(groups.length, ruleFiles().flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: unknown[] }).groups).length);
  };

  it('local static targets: job="platform", service and pod labels; every rule evaluates', needPrometheus(), async () => {
    const promPort = await freePort();
    const file = join(dir.path, 'local.yml');
    writeFileSync(
      file,
      renderLocalPrometheusConfig({
        targets: services.map((s, i) => ({ service: s.name, pod: `${s.name}-${i + 1}`, address: `127.0.0.1:${managementPorts.get(s.name)}` })),
        alertmanagers: [],
        prometheusAddress: `127.0.0.1:${promPort}`,
        scrapeInterval: '1s',
        evaluationInterval: '1s',
      }),
    );
    const prom = await startPrometheus(file, join(dir.path, 'tsdb-local'), promPort);
    try {
      let up: Series = [];
      await waitFor(async () => (up = await query(prom.url, 'up{job="platform"} == 1')).length === services.length, {
        timeoutMs: 90_000,
        what: 'every service scraped',
      });
      assert.deepEqual(up.map((s) => s.metric.service).sort(), services.map((s) => s.name).sort());
      for (const s of up) assert.match(s.metric.pod ?? '', new RegExp(`^${s.metric.service}-\\d$`));
      const requests = await query(prom.url, 'http_requests_total{job="platform"}');
      assert.ok(requests.length >= services.length);
      for (const r of requests) {
        assert.equal(r.metric.exported_service, undefined);
        assert.ok(r.metric.pod?.startsWith(`${r.metric.service}-`));
      }
      assert.ok((await query(prom.url, 'service_health_check_status{job="platform", service="auth", check="database"}')).length === 1);
      await rulesHealthy(prom.url);
      // Prometheus scrapes itself under job="prometheus" (self-monitoring alerts).
      await waitFor(async () => (await query(prom.url, 'up{job="prometheus"} == 1')).length === 1, { what: 'Prometheus scraping itself' });
    } finally {
      await prom.stop();
    }
  });

  it('cluster relabelling of pods discovered in namespace app gives the same labels', needPrometheus(), async () => {
    const { file, sdFile } = clusterConfigForTest(join(dir.path), { fast: true });
    const pod = (name: string, component: string, extra: Record<string, string>) => ({
      // Kubernetes SD makes one target per declared container port: the public port here, rewritten to the annotated one.
      targets: ['127.0.0.1:8080'],
      labels: {
        __meta_kubernetes_namespace: 'app',
        __meta_kubernetes_pod_name: name,
        __meta_kubernetes_pod_phase: 'Running',
        __meta_kubernetes_pod_node_name: 'node-1',
        __meta_kubernetes_pod_label_app_kubernetes_io_component: component,
        __meta_kubernetes_pod_label_app_kubernetes_io_name: `${component === 'gateway' ? 'api' : component}-service`,
        __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
        ...extra,
      },
    });
    const targets = [
      ...services.map((s) =>
        pod(`${s.name}-pod-a`, s.name, {
          __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
          __meta_kubernetes_pod_annotation_prometheus_io_port: String(managementPorts.get(s.name)),
        }),
      ),
      // Not annotated: not scraped.
      pod('postgres-0', 'database', { __meta_kubernetes_pod_annotation_prometheus_io_port: '9187' }),
      // A finished Job's pod: not scraped.
      pod('minio-setup-x', 'object-storage', {
        __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
        __meta_kubernetes_pod_annotation_prometheus_io_port: '9000',
        __meta_kubernetes_pod_phase: 'Succeeded',
      }),
    ];
    writeFileSync(sdFile('platform'), JSON.stringify(targets));
    const prom = await startPrometheus(file, join(dir.path, 'tsdb-cluster'));
    try {
      let up: Series = [];
      await waitFor(async () => (up = await query(prom.url, 'up{job="platform"} == 1')).length === services.length, {
        timeoutMs: 90_000,
        what: 'every service scraped',
      });
      for (const s of up) {
        assert.equal(s.metric.namespace, 'app');
        assert.equal(s.metric.pod, `${s.metric.service}-pod-a`);
        assert.equal(s.metric.instance, `127.0.0.1:${managementPorts.get(s.metric.service ?? '')}`);
        assert.equal(s.metric.node, 'node-1');
      }
      assert.equal((await query(prom.url, 'up{job="platform"}')).length, services.length, 'unannotated and finished pods must not be targets');
      for (const r of await query(prom.url, 'http_requests_total{job="platform"}')) assert.equal(r.metric.exported_service, undefined);
      await rulesHealthy(prom.url);
      // The committed names of Prometheus' own metrics (test/fixtures/external-metrics.json) against the real binary.
      // (This configuration has an Alertmanager, so the notification metrics have series.)
      const own = exposedMetricNames(await (await fetch(`${prom.url}/metrics`)).text());
      for (const name of externalSection('Prometheus 2.42 (Debian, tests) and v2.53.2 (cluster): /metrics'))
        assert.ok(own.has(name), `Prometheus does not export ${name}`);
      // Generated series: ALERTS (the Watchdog fires at once) and up.
      await waitFor(async () => (await query(prom.url, 'ALERTS{alertname="Watchdog", alertstate="firing"}')).length === 1, { what: 'the Watchdog firing' });
    } finally {
      await prom.stop();
    }
  });
});
