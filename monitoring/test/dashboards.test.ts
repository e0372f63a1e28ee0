import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildDashboard, dashboardQueries, variableSelectors } from '../grafana/src/builder.js';
import { dashboards } from '../grafana/src/dashboards.js';
import { metricNames, substituteGrafanaVariables } from '../lib/promql.js';
import { loadRules } from '../lib/rules.js';
import { monitoringDir } from '../lib/paths.js';
import { SERVICE_NAMES, buildLiveService, exposedMetricNames, needPromtool, run, serviceAvailable, tempDir } from './helpers.js';

/**
 * Dashboards: every panel query is valid PromQL (promtool 2.42 has no `check query`, so each query becomes
 * a recording rule for `promtool check rules`), and every metric a dashboard or rule reads is one that is
 * really exported: the services' names from their live /metrics (each service built with buildApp),
 * recording rules from monitoring/rules, the rest from the committed list of
 * monitoring/test/fixtures/external-metrics.json (versions named there).
 */

const built = dashboards.map((spec) => ({ spec, json: buildDashboard(spec) }));
const queries = built.flatMap(({ spec, json }) => dashboardQueries(json).map((q) => ({ dashboard: spec.uid, ...q })));
const variables = built.flatMap(({ spec, json }) => variableSelectors(json).map((expr) => ({ dashboard: spec.uid, panel: '(variable)', expr })));

const external = JSON.parse(readFileSync(join(monitoringDir, 'test', 'fixtures', 'external-metrics.json'), 'utf8')) as Record<string, string[] | string>;
const externalNames = new Set(Object.entries(external).flatMap(([k, v]) => (k.startsWith('_') ? [] : (v as string[]))));

describe('dashboards', () => {
  const dir = tempDir('dash');
  const serviceNames = new Map<string, Set<string>>();

  before(async () => {
    for (const name of SERVICE_NAMES) {
      if (!serviceAvailable(name)) {
        if (process.env.CI === 'true') throw new Error(`services/${name}/src/app.ts is missing: cannot read its live /metrics`);
        continue;
      }
      const service = await buildLiveService(name, dir.path);
      try {
        const res = await service.management.inject({ method: 'GET', url: '/metrics' });
        assert.equal(res.statusCode, 200);
        serviceNames.set(name, exposedMetricNames(res.body));
      } finally {
        await service.close();
      }
    }
  });
  after(() => dir.remove());

  it('has unique uids and titles, and marks its JSON as generated', () => {
    assert.equal(new Set(built.map((b) => b.spec.uid)).size, built.length);
    assert.equal(new Set(built.map((b) => b.spec.title)).size, built.length);
    for (const { json } of built) assert.match(String(json.description), /Generated from monitoring\/grafana\/src\/[\w-]+\.ts .* do not edit\./);
  });

  it("covers RED, Kubernetes, system health and business with the issue's panels", () => {
    const exprsOf = (uid: string) =>
      queries
        .filter((q) => q.dashboard === uid)
        .map((q) => q.expr)
        .join('\n');
    const red = exprsOf('sre-service-red');
    for (const needle of [
      'histogram_quantile(0.5,',
      'histogram_quantile(0.9,',
      'histogram_quantile(0.99,',
      'by (service, method, route)',
      'gateway_circuit_state',
      'gateway_upstream_requests_total',
      'status_code=~"5.."',
    ])
      assert.ok(red.includes(needle), needle);
    const k8s = exprsOf('sre-kubernetes');
    for (const needle of [
      'kube_pod_container_status_restarts_total',
      'kube_pod_status_ready',
      'kube_horizontalpodautoscaler_status_desired_replicas',
      'changes(kube_horizontalpodautoscaler_status_desired_replicas',
      'container_cpu_usage_seconds_total',
      'resource="cpu"',
      'container_memory_working_set_bytes',
      'resource="memory"',
      'kube_pod_container_resource_limits',
    ])
      assert.ok(k8s.includes(needle), needle);
    const health = exprsOf('sre-system-health');
    for (const needle of ['up{', 'service_health_check_status', 'ratio_rate2m', 'p99_2m', 'ALERTS{alertstate="firing"'])
      assert.ok(health.includes(needle), needle);
    const business = exprsOf('sre-business');
    for (const needle of ['auth_registrations_total', 'auth_logins_total', 'images_uploads_total', 'images_upload_bytes_sum', 'images_stored'])
      assert.ok(business.includes(needle), needle);
  });

  it('the SLO dashboard shows objective, SLI, budget remaining, burn rate per alert window and what burned it', () => {
    const slo = queries
      .filter((q) => q.dashboard === 'sre-slo')
      .map((q) => q.expr)
      .join('\n');
    for (const needle of [
      'slo:objective:ratio',
      'slo:sli_error:ratio_rate30d',
      'slo:error_budget_remaining:ratio',
      'status_code=~"5.."',
      'by (service, route, status_code)',
      'le="2.5"',
      'ALERTS{alertname=~"SLO.*BudgetBurn"',
    ])
      assert.ok(slo.includes(needle), needle);
    for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d'])
      assert.ok(slo.includes(`slo:sli_error:ratio_rate${w}{service=~"$service", slo=~"$slo"} / on (service, slo) group_left slo:error_budget:ratio`), w);
  });

  it('every panel and variable query is valid PromQL (promtool check rules)', needPromtool(), async () => {
    const all = [...queries, ...variables];
    for (const q of all) assert.doesNotMatch(substituteGrafanaVariables(q.expr), /\$/, `${q.dashboard} / ${q.panel}: unsubstituted variable`);
    const file = join(dir.path, 'dashboard-queries.yml');
    writeFileSync(
      file,
      stringify({
        groups: [{ name: 'dashboard-queries', rules: all.map((q, i) => ({ record: `dashboard:query:${i}`, expr: substituteGrafanaVariables(q.expr) })) }],
      }),
    );
    const result = await run('promtool', ['check', 'rules', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${all.length} rules found`));
  });

  it('promtool rejects an invalid panel query (the check can fail)', needPromtool(), async () => {
    const file = join(dir.path, 'broken.yml');
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'x',
            rules: [{ record: 'x:y', expr: substituteGrafanaVariables('sum by (service) (rate(http_requests_total{service=~"$service"}[$__rate_interval])') }],
          },
        ],
      }),
    );
    assert.notEqual((await run('promtool', ['check', 'rules', file])).code, 0);
  });

  it('the services export every service metric the issues name (live /metrics)', () => {
    const expected: Record<string, string[]> = {
      auth: [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'service_health_check_status',
        'process_resident_memory_bytes',
        'auth_logins_total',
        'auth_registrations_total',
        'auth_tokens_issued_total',
        'auth_refresh_reuse_detected_total',
      ],
      images: [
        'images_uploads_total',
        'images_upload_bytes_bucket',
        'images_processing_duration_seconds_bucket',
        'images_storage_operation_duration_seconds_bucket',
        'images_stored',
      ],
      gateway: ['gateway_upstream_requests_total', 'gateway_upstream_duration_seconds_bucket', 'gateway_circuit_state'],
    };
    for (const [service, names] of Object.entries(expected)) {
      const live = serviceNames.get(service);
      if (!live) continue; // not built yet (fails in `before` under CI)
      for (const name of names) assert.ok(live.has(name), `${service} does not export ${name}`);
    }
  });

  it('every metric read by a dashboard or a rule is exported by a service, kube-state-metrics, the kubelet, Prometheus, Alertmanager or a recording rule', () => {
    const { alerts, records } = loadRules();
    const recorded = new Set(records.map((r) => r.record));
    const live = new Set([...serviceNames.values()].flatMap((s) => [...s]));
    const known = (name: string) => live.has(name) || externalNames.has(name) || recorded.has(name);
    const users = [
      ...[...queries, ...variables].map((q) => ({ where: `${q.dashboard} / ${q.panel}`, expr: q.expr })),
      ...alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr })),
      ...records.map((r) => ({ where: `record ${r.record}`, expr: r.expr })),
    ];
    const unknown = users.flatMap((u) =>
      metricNames(substituteGrafanaVariables(u.expr))
        .filter((n) => !known(n))
        .map((n) => `${u.where}: ${n}`),
    );
    if (serviceNames.size < SERVICE_NAMES.length) return; // a service not built yet: its names are unknown
    assert.deepEqual(unknown, []);
  });

  it('the metric-name check can fail: a misspelt metric is not known', () => {
    assert.deepEqual(metricNames('sum by (service) (rate(http_request_total{job="platform", le="+Inf"}[5m])) / on (service) group_left (pod) up offset 5m'), [
      'http_request_total',
      'up',
    ]);
    assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > 2 and on (namespace) b:c:rate2m > 0.1'), [
      'a_bucket',
      'b:c:rate2m',
    ]);
    assert.deepEqual(metricNames('label_replace(kube_pod_labels, "service", "$1", "label_x", "(.*)")'), ['kube_pod_labels']);
    const live = new Set([...serviceNames.values()].flatMap((s) => [...s]));
    assert.ok(!live.has('http_request_total') && !externalNames.has('http_request_total'));
  });

  it('every alert links to an existing dashboard, with variables it has', () => {
    for (const a of loadRules().alerts) {
      const url = new URL(a.annotations.dashboard_url?.replace(/\{\{[^}]*\}\}/g, 'x') ?? '');
      const uid = /^\/d\/([^/]+)\//.exec(url.pathname)?.[1];
      const dashboard = built.find((b) => b.spec.uid === uid);
      assert.ok(dashboard, `${a.alert}: no dashboard ${uid}`);
      for (const key of url.searchParams.keys()) {
        assert.ok(
          dashboard.spec.variables.some((v) => `var-${v.name}` === key),
          `${a.alert}: ${uid} has no variable ${key}`,
        );
      }
    }
  });
});
