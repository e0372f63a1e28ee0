/**
 * The opt-in tracing component (k8s/components/tracing), rendered through its overlay as users apply
 * it: valid objects, the best-practice gate without exceptions, config hashes that roll out, the
 * services' OTEL_* variables naming the collector, a collector configuration that agrees with its
 * pods and Services, and Grafana's Jaeger datasource and exemplar link. Its NetworkPolicy truth table
 * is in networkpolicy.test.ts. Not applied to a real cluster here (none can be had).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { requireTool } from '@sre/testkit';
import { configSchema as authSchema } from '@sre/auth/config';
import { configSchema as gatewaySchema } from '@sre/gateway/config';
import { configSchema as imagesSchema } from '@sre/images/config';
import { CONFIG_HASH_ANNOTATION, expectedHash } from '../config-hash.js';
import { checkServiceConfig, type ServiceSchema } from '../verify/config.js';
import { checkBestPractices } from '../verify/gate.js';
import { field, find, podTemplates, ref, resolveEnv, resolvePort, type IContainer, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';
import { validateObjects } from '../verify/schema.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

function render(): { base: K8sObject[]; traced: K8sObject[] } {
  const { workspace, objects } = renderedPlatform();
  return { base: objects, traced: renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/tracing')) };
}

const SERVICES = [
  { deployment: 'api-service', schema: gatewaySchema as unknown as ServiceSchema },
  { deployment: 'auth-service', schema: authSchema as unknown as ServiceSchema },
  { deployment: 'images-service', schema: imagesSchema as unknown as ServiceSchema },
];
const container = (objects: readonly K8sObject[], namespace: string, deployment: string) =>
  field<IContainer>(find(objects, 'Deployment', namespace, deployment), 'spec', 'template', 'spec', 'containers', 0)!;
const envOf = (objects: readonly K8sObject[], deployment: string) => resolveEnv(objects, 'app', container(objects, 'app', deployment)).env;
const dataOf = (objects: readonly K8sObject[], name: string) => find(objects, 'ConfigMap', 'monitoring', name)?.data as Record<string, string> | undefined;

/** host.namespace.svc:port → the Service and the pod port it targets, or why not. */
function serviceTarget(objects: readonly K8sObject[], hostPort: string): { ok: true; targetName: string } | { ok: false; why: string } {
  const [host = '', portText = ''] = hostPort.split(':');
  const [name = '', namespace = ''] = host.split('.');
  const svc = find(objects, 'Service', namespace, name);
  if (!svc) return { ok: false, why: `${host} is no Service` };
  const port = field<{ port: number; targetPort: string }[]>(svc, 'spec', 'ports')!.find((p) => p.port === Number(portText));
  if (!port) return { ok: false, why: `Service ${host} has no port ${portText}` };
  return { ok: true, targetName: String(port.targetPort) };
}

describe('tracing component', kubectl, () => {
  it('adds the collector, Jaeger and their policies, and valid objects only', async () => {
    const { base, traced } = render();
    const added = traced
      .filter((o) => !base.some((b) => ref(b) === ref(o) && b.kind === o.kind))
      .map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
    assert.deepEqual(added.sort(), [
      'ConfigMap monitoring/otel-collector-config',
      'Deployment monitoring/jaeger',
      'Deployment monitoring/otel-collector',
      'HorizontalPodAutoscaler monitoring/otel-collector',
      'NetworkPolicy app/otel-export',
      'NetworkPolicy monitoring/grafana-to-jaeger',
      'NetworkPolicy monitoring/jaeger',
      'NetworkPolicy monitoring/otel-collector',
      'PodDisruptionBudget monitoring/otel-collector',
      'Service monitoring/jaeger',
      'Service monitoring/otel-collector',
    ]);
    assert.deepEqual(await validateObjects(traced), []);
  });

  it('passes the best-practice gate with no exception (collector: HPA and PDB; Jaeger: a declared singleton)', () => {
    assert.deepEqual(checkBestPractices(render().traced), []);
  });

  it('every workload reading a ConfigMap carries its hash, Grafana with the patched datasources included', () => {
    const { base, traced } = render();
    const stale = podTemplates(traced)
      .filter((t) => expectedHash(traced, t.owner) !== t.annotations[CONFIG_HASH_ANNOTATION])
      .map((t) => `${ref(t.owner)}: want ${expectedHash(traced, t.owner)}`);
    assert.deepEqual(stale, [], 'the collector: edit k8s/components/tracing/otel-collector.yaml; Grafana: npm run monitoring:generate');
    const grafanaHash = (objects: K8sObject[]) =>
      field(find(objects, 'Deployment', 'monitoring', 'grafana'), 'spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION);
    assert.notEqual(grafanaHash(traced), grafanaHash(base), 'applying the component must roll Grafana out to load the new datasources');
  });

  it("the services export to the collector's OTLP/HTTP port with a parent-based ratio sampler, under their metrics' service name", () => {
    const { base, traced } = render();
    for (const { deployment } of SERVICES) {
      const env = envOf(traced, deployment);
      const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'missing:');
      assert.equal(endpoint.protocol, 'http:', `${deployment}: OTEL_EXPORTER_OTLP_ENDPOINT`);
      const target = serviceTarget(traced, endpoint.host);
      assert.ok(target.ok, `${deployment}: ${target.ok ? '' : target.why}`);
      assert.equal(target.targetName, 'otlp-http', `${deployment}: the endpoint must reach the collector's OTLP/HTTP port (the SDK exports OTLP/HTTP)`);
      assert.equal(env.OTEL_TRACES_SAMPLER, 'parentbased_traceidratio');
      const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
      assert.ok(ratio > 0 && ratio <= 1, `${deployment}: OTEL_TRACES_SAMPLER_ARG ${env.OTEL_TRACES_SAMPLER_ARG}`);
      // Trace-to-metrics maps service.name to the `service` label, which Prometheus takes from this label.
      const component = field<string>(find(traced, 'Deployment', 'app', deployment), 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/component');
      assert.equal(env.OTEL_SERVICE_NAME, component, `${deployment}: OTEL_SERVICE_NAME`);
      // Without the component nothing is exported.
      assert.deepEqual(
        Object.keys(envOf(base, deployment)).filter((k) => k.startsWith('OTEL_')),
        [],
        `${deployment} without the component`,
      );
    }
  });

  it("the services' configuration stays consistent with their schemas", () => {
    // The OTEL_* variables are the OpenTelemetry SDK's own (read by the SDK, started before the
    // application): a schema that lists them checks them too; one that does not is not wrong.
    const sdkVariable = /: provides OTEL_[A-Z_]+, which the service's config schema does not know$/;
    const { traced } = render();
    for (const service of SERVICES) {
      assert.deepEqual(
        checkServiceConfig(traced, { ...service, clusterMustSet: {} }).filter((p) => !sdkVariable.test(p)),
        [],
        service.deployment,
      );
    }
  });

  it("the collector listens where its pods, Service and probes say, limits memory first, and exports to Jaeger's OTLP port", () => {
    const { traced } = render();
    const config = parse(dataOf(traced, 'otel-collector-config')!['config.yaml']!) as {
      extensions: { health_check: { endpoint: string } };
      receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
      processors: { memory_limiter: { limit_mib: number } };
      exporters: Record<string, { endpoint: string; tls?: { insecure?: boolean } }>;
      service: { extensions: string[]; pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
    };
    const collector = container(traced, 'monitoring', 'otel-collector');
    const portOf = (name: string) => resolvePort(collector.ports ?? [], name)?.containerPort;
    assert.equal(config.receivers.otlp.protocols.http.endpoint, `0.0.0.0:${portOf('otlp-http')}`);
    assert.equal(config.receivers.otlp.protocols.grpc.endpoint, `0.0.0.0:${portOf('otlp-grpc')}`);
    assert.deepEqual([portOf('otlp-http'), portOf('otlp-grpc')], [4318, 4317], 'the standard OTLP ports');
    assert.equal(config.extensions.health_check.endpoint, `0.0.0.0:${portOf(String(collector.readinessProbe!.httpGet!.port))}`);
    assert.ok(config.service.extensions.includes('health_check'));
    const pipeline = config.service.pipelines.traces;
    assert.deepEqual(pipeline.receivers, ['otlp']);
    assert.deepEqual(pipeline.processors, ['memory_limiter', 'batch'], "memory_limiter first, batch last (the collector's documented order)");
    const limitMib = Number(String(collector.resources!.limits!.memory).replace(/Mi$/, ''));
    assert.ok(
      config.processors.memory_limiter.limit_mib < limitMib,
      `memory_limiter ${config.processors.memory_limiter.limit_mib} MiB is not below the pod limit ${limitMib} MiB`,
    );
    assert.equal(pipeline.exporters.length, 1);
    const exporter = config.exporters[pipeline.exporters[0]!]!;
    const target = serviceTarget(traced, exporter.endpoint);
    assert.ok(target.ok, target.ok ? '' : target.why);
    assert.equal(target.targetName, 'otlp-grpc');
    assert.ok(resolvePort(container(traced, 'monitoring', 'jaeger').ports ?? [], 'otlp-grpc'), 'Jaeger declares no otlp-grpc port');
  });

  it('Grafana gets the Jaeger datasource (trace-to-logs, trace-to-metrics) and the Prometheus exemplar link to it', () => {
    const { base, traced } = render();
    type Datasource = { name: string; uid: string; type: string; url: string; isDefault?: boolean; jsonData: Record<string, unknown> };
    const datasources = (objects: K8sObject[]) =>
      Object.values(dataOf(objects, 'grafana-datasources')!).flatMap((text) => (parse(text) as { datasources: Datasource[] }).datasources);
    const all = datasources(traced);
    const jaeger = all.find((d) => d.type === 'jaeger');
    const prometheus = all.find((d) => d.type === 'prometheus');
    assert.ok(jaeger && prometheus);
    assert.equal(all.filter((d) => d.isDefault).length, 1, 'Grafana refuses to start with two default datasources');
    assert.equal(new Set(all.map((d) => d.uid)).size, all.length, 'datasource uids are unique');
    assert.deepEqual(prometheus.jsonData.exemplarTraceIdDestinations, [{ name: 'trace_id', datasourceUid: jaeger.uid }]);
    const url = new URL(jaeger.url);
    const target = serviceTarget(traced, url.host);
    assert.ok(target.ok, target.ok ? '' : target.why);
    assert.equal(target.targetName, 'query');
    const toLogs = jaeger.jsonData.tracesToLogsV2 as { filterByTraceID: boolean; query: string };
    assert.equal(toLogs.filterByTraceID, true);
    // Grafana expands $NAME and ${NAME} in provisioning files from its environment; $$ is a literal $.
    assert.match(toLogs.query, /\$\$\{__trace\.traceId\}/);
    for (const [file, text] of Object.entries(dataOf(traced, 'grafana-datasources')!)) {
      assert.deepEqual(text.match(/(?<!\$)\$(?!\$)[{\w]/g), null, `${file}: an unescaped $ would be replaced by an environment variable (write $$)`);
    }
    assert.equal((jaeger.jsonData.tracesToMetrics as { datasourceUid: string }).datasourceUid, prometheus.uid);
    // Without the component: Prometheus only, with no link to a trace store that is not there.
    const without = datasources(base);
    assert.deepEqual(
      without.map((d) => d.type),
      ['prometheus'],
    );
    assert.equal(without[0]!.jsonData.exemplarTraceIdDestinations, undefined);
  });

  it(
    "the trace-to-metrics queries are valid PromQL once Grafana fills in the span's tags (promtool check rules)",
    requireTool('promtool', 'apt-get install prometheus'),
    () => {
      const jaeger = parse(dataOf(render().traced, 'grafana-datasources')!['jaeger.yaml']!) as {
        datasources: { jsonData: { tracesToMetrics: { queries: { name: string; query: string }[] } } }[];
      };
      const queries = jaeger.datasources[0]!.jsonData.tracesToMetrics.queries;
      assert.ok(queries.length >= 2);
      // $$ is Grafana's provisioning escape for $; $__tags becomes the span's mapped tags.
      const promql = (q: string) => q.replaceAll('$$', '$').replaceAll('$__tags', 'service="gateway"');
      const check = (exprs: string[]) => {
        const dir = mkdtempSync(join(tmpdir(), 'sre-tracing-promql-'));
        try {
          const file = join(dir, 'queries.yml');
          writeFileSync(
            file,
            stringify({ groups: [{ name: 'trace-to-metrics', rules: exprs.map((expr, i) => ({ record: `trace_to_metrics:query${i}`, expr })) }] }),
          );
          return spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      };
      const result = check(queries.map((q) => promql(q.query)));
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.notEqual(check(['sum(rate(http_requests_total{$__tags}[1m]))']).status, 0, 'promtool accepts an unfilled $__tags: the check cannot fail');
    },
  );

  it('Prometheus keeps exemplars only with the component', () => {
    const { base, traced } = render();
    const args = (objects: K8sObject[]) =>
      field<IContainer>(find(objects, 'StatefulSet', 'monitoring', 'prometheus'), 'spec', 'template', 'spec', 'containers', 0)!.args!;
    assert.ok(args(traced).includes('--enable-feature=exemplar-storage'));
    assert.ok(!args(base).some((a) => a.includes('exemplar')));
  });
});
