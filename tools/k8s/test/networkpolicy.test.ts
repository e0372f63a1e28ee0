/**
 * NetworkPolicy truth table: from the rendered policies, which pod may open a connection to which
 * pod and port (egress of the source AND ingress of the destination, Kubernetes semantics), compared
 * cell by cell with the intended graph, for every pod of namespaces app and monitoring (Jobs and
 * CronJobs included) plus a pod nobody described in each:
 *   ingress-nginx → gateway (app port); gateway → Auth, Images; Images → Auth (JWKS);
 *   Auth, Images → PostgreSQL; Images → MinIO; the bucket setup Job → MinIO; the Images reconcile
 *   CronJob → PostgreSQL, MinIO (nothing else: it serves nothing and needs no JWKS);
 *   Prometheus → every metrics port, kube-state-metrics, Alertmanager, Grafana; Grafana → Prometheus;
 *   Prometheus, kube-state-metrics → API server and kubelets, Alertmanager → Slack (any address on
 *   those ports); every pod → DNS. Every other pair is denied.
 * With the tracing component (k8s/components/tracing) exactly these open on top: the three services →
 *   the OpenTelemetry Collector (OTLP 4318/4317), the collector → Jaeger (OTLP 4317), Grafana → Jaeger
 *   (query API 16686).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { cellName, compareWithIntent, endpointsOf, intendedCells, NetworkModel, truthTable, type Cell, type Endpoint } from '../verify/netpol.js';
import { field, find, podTemplates, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

/** Ports that egress rules must open to any address, because what they reach has no pod labels. */
const ANY_ADDRESS_EGRESS: Record<string, number[]> = {
  // Kubelets (10250) and the API server (443, 6443 or 8443 by flavour): node/host addresses.
  'monitoring/prometheus': [10250, 443, 6443, 8443],
  'monitoring/kube-state-metrics': [443, 6443, 8443],
  // Slack's webhook endpoint has no fixed addresses.
  'monitoring/alertmanager': [443],
};

function intendedEdges(objects: readonly K8sObject[]): Cell[] {
  const endpoints = endpointsOf(objects);
  const prometheus = endpoints.find((e) => e.namespace === 'monitoring' && e.labels['app.kubernetes.io/name'] === 'prometheus')!;
  const edge = (from: string, to: string, port: number): Cell => ({ from, to, port, protocol: 'TCP' });
  const anyAddress = Object.entries(ANY_ADDRESS_EGRESS).flatMap(([from, ports]) =>
    endpoints
      // An ipBlock cannot tell a node from a pod: every endpoint outside our namespaces that listens
      // on such a port is reachable (our own pods listen on none of them).
      .filter((to) => to.namespace !== 'app' && to.namespace !== 'monitoring')
      .flatMap((to) =>
        to.ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP' && ports.includes(p.containerPort)).map((p) => edge(from, to.id, p.containerPort)),
      ),
  );
  return [
    edge('ingress-nginx/ingress-nginx-controller', 'app/api-service', 8080),
    edge('app/api-service', 'app/auth-service', 8080),
    edge('app/api-service', 'app/images-service', 8080),
    edge('app/images-service', 'app/auth-service', 8080),
    edge('app/auth-service', 'app/postgres', 5432),
    edge('app/images-service', 'app/postgres', 5432),
    edge('app/images-service', 'app/minio', 9000),
    edge('app/minio-setup', 'app/minio', 9000),
    edge('app/images-reconcile', 'app/postgres', 5432),
    edge('app/images-reconcile', 'app/minio', 9000),
    edge(prometheus.id, 'app/api-service', 9464),
    edge(prometheus.id, 'app/auth-service', 9464),
    edge(prometheus.id, 'app/images-service', 9464),
    edge(prometheus.id, 'app/postgres', 9187),
    // MinIO serves its metrics on the S3 port (/minio/v2/metrics/cluster).
    edge(prometheus.id, 'app/minio', 9000),
    // Namespace monitoring.
    edge(prometheus.id, 'monitoring/kube-state-metrics', 8080),
    edge(prometheus.id, 'monitoring/kube-state-metrics', 8081),
    edge(prometheus.id, 'monitoring/alertmanager', 9093),
    edge(prometheus.id, 'monitoring/grafana', 3000),
    edge('monitoring/grafana', prometheus.id, 9090),
    ...anyAddress,
  ];
}

const NAMESPACES = ['app', 'monitoring'] as const;

function differences(objects: readonly K8sObject[], extraEdges: readonly Cell[] = []): string[] {
  const edges = [...intendedEdges(objects), ...extraEdges];
  // One table over both namespaces (a cell between them appears once), one intent.
  const table = new Map(NAMESPACES.flatMap((ns) => [...truthTable(objects, ns)]));
  const intended = new Set(NAMESPACES.flatMap((ns) => [...intendedCells(objects, ns, edges)]));
  return compareWithIntent(table, intended);
}

const policy = (objects: K8sObject[], name: string) => {
  const np = find(objects, 'NetworkPolicy', 'app', name);
  assert.ok(np, `NetworkPolicy app/${name} not rendered`);
  return np;
};

describe('NetworkPolicy truth table (namespaces app and monitoring)', kubectl, () => {
  it('covers every pod the manifests create (Jobs and CronJobs too) and a pod nobody described, in both namespaces', () => {
    const { objects } = renderedPlatform();
    const sources = new Set(NAMESPACES.flatMap((ns) => [...truthTable(objects, ns).values()].map((c) => c.cell.from)));
    for (const t of podTemplates(objects)) assert.ok(sources.has(t.id), `${t.owner.kind} ${t.id} is not in the truth table`);
    assert.ok(sources.has('app/minio-setup'), 'the minio-setup Job is missing');
    for (const ns of NAMESPACES) assert.ok(sources.has(`${ns}/unlisted-pod`), `no unlisted pod in ${ns}`);
    // A CronJob added later is in the table as soon as it renders, and default-deny closes it.
    objects.push({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: 'app' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          spec: {
            template: {
              metadata: { labels: { 'app.kubernetes.io/name': 'nightly' } },
              spec: { containers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 8080 }] }] },
            },
          },
        },
      },
    });
    const table = truthTable(objects, 'app');
    assert.ok(
      [...table.values()].some((c) => c.cell.from === 'app/nightly'),
      'the CronJob is not in the table',
    );
    assert.deepEqual(differences(objects), [], 'a CronJob nobody allowed anything must be denied everything but DNS');
  });

  for (const ns of NAMESPACES) {
    it(`fails directly when the ${ns} namespace's default-deny policy is deleted`, () => {
      const { objects } = renderedPlatform();
      const deny = find(objects, 'NetworkPolicy', ns, 'default-deny-all');
      assert.ok(deny, `NetworkPolicy ${ns}/default-deny-all not rendered`);
      objects.splice(objects.indexOf(deny), 1);
      assert.ok(
        differences(objects).includes(`allowed but not intended: default/other-app → ${ns}/unlisted-pod:8080/TCP`),
        differences(objects).join('\n') || '(no differences)',
      );
    });
  }

  it('equals the intended graph, cell by cell', () => {
    const { objects } = renderedPlatform();
    const table = truthTable(objects, 'app');
    // Not vacuous: every app pod, the ingress controller, DNS, Prometheus and an unrelated pod are in it.
    assert.ok(table.size > 100, `only ${table.size} cells`);
    assert.deepEqual(differences(objects), []);
    const allowed = [...table.values()].filter((c) => c.allowed).map((c) => cellName(c.cell));
    assert.ok(allowed.includes('ingress-nginx/ingress-nginx-controller → app/api-service:8080/TCP'));
    assert.ok(!allowed.includes('ingress-nginx/ingress-nginx-controller → app/auth-service:8080/TCP'));
  });

  const broken: [string, (objects: K8sObject[]) => void, string[]][] = [
    [
      'without the default deny, a pod whose own policy is missing accepts anyone',
      (o) => {
        o.splice(o.indexOf(policy(o, 'default-deny-all')), 1);
        o.splice(o.indexOf(policy(o, 'postgres')), 1);
      },
      ['allowed but not intended: default/other-app → app/postgres:5432/TCP'],
    ],
    [
      'a missing egress half (Images may not leave for MinIO) breaks uploads',
      (o) => field<unknown[]>(policy(o, 'images-service'), 'spec', 'egress')!.splice(2, 1),
      ['intended but denied: app/images-service → app/minio:9000/TCP'],
    ],
    [
      'a missing ingress half (PostgreSQL no longer admits Auth) breaks logins',
      (o) => field<unknown[]>(policy(o, 'postgres'), 'spec', 'ingress', 0, 'from')!.splice(0, 1),
      ['intended but denied: app/auth-service → app/postgres:5432/TCP'],
    ],
    [
      'namespaceSelector and podSelector split into two peers admit every pod of the ingress-nginx namespace',
      (o) => {
        const from = field<Record<string, unknown>[]>(policy(o, 'api-service'), 'spec', 'ingress', 0, 'from')!;
        const [peer] = from.splice(0, 1);
        from.push({ namespaceSelector: peer!.namespaceSelector }, { podSelector: peer!.podSelector });
      },
      ['allowed but not intended: ingress-nginx/ingress-nginx-admission → app/api-service:8080/TCP'],
    ],
    [
      'a rule without ports opens the management port to ingress-nginx',
      (o) => delete field<Record<string, unknown>>(policy(o, 'api-service'), 'spec', 'ingress', 0)!.ports,
      ['allowed but not intended: ingress-nginx/ingress-nginx-controller → app/api-service:9464/TCP'],
    ],
    [
      'egress to 0.0.0.0/0 lets the gateway reach the internet',
      (o) => field<unknown[]>(policy(o, 'api-service'), 'spec', 'egress')!.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }),
      ['allowed but not intended: app/api-service → external/internet:443/TCP'],
    ],
    [
      'a named port that does not match the destination is no port at all',
      (o) => (field<{ port: string }[]>(policy(o, 'images-service'), 'spec', 'ingress', 0, 'ports')![0]!.port = 'web'),
      ['intended but denied: app/api-service → app/images-service:8080/TCP'],
    ],
    [
      'DNS over UDP only breaks nothing visible but TCP fallback',
      (o) => field<unknown[]>(policy(o, 'allow-dns-egress'), 'spec', 'egress', 0, 'ports')!.splice(1, 1),
      ['intended but denied: app/api-service → kube-system/coredns:53/TCP'],
    ],
  ];
  for (const [what, mutate, expected] of broken) {
    it(`fails when ${what}`, () => {
      const { objects } = renderedPlatform();
      mutate(objects);
      const diff = differences(objects);
      for (const line of expected) assert.ok(diff.includes(line), `expected "${line}" among:\n${diff.join('\n') || '(no differences)'}`);
    });
  }

  it('fails when the metrics rule admits the whole monitoring namespace, not only Prometheus (ingress half)', () => {
    const { objects } = renderedPlatform();
    const endpoints = endpointsOf(objects);
    const other = endpoints.find((e) => e.namespace === 'monitoring' && e.labels['app.kubernetes.io/name'] !== 'prometheus');
    assert.ok(other, 'no non-Prometheus monitoring pod to test with');
    const auth = endpoints.find((e) => e.id === 'app/auth-service')!;
    const before = new NetworkModel(objects, ['monitoring']).ingressAllowed(other, auth, 9464, 'TCP');
    delete field<Record<string, unknown>>(policy(objects, 'auth-service'), 'spec', 'ingress', 1, 'from', 0)!.podSelector;
    const after = new NetworkModel(objects, ['monitoring']).ingressAllowed(other, auth, 9464, 'TCP');
    assert.deepEqual({ before, after }, { before: false, after: true });
  });

  describe('the evaluator follows Kubernetes semantics', () => {
    const pod = (id: string, labels: Record<string, string>, port = 8080): Endpoint => ({
      id,
      namespace: id.split('/')[0]!,
      labels,
      ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    });
    const ns = (name: string, labels: Record<string, string> = {}): K8sObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    const np = (namespace: string, spec: Record<string, unknown>): K8sObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `p${Math.random()}`, namespace },
      spec,
    });
    const a = pod('x/a', { role: 'a' });
    const b = pod('x/b', { role: 'b' });
    const c = pod('y/c', { role: 'a' });

    it('no policy: everything is allowed', () => {
      assert.equal(new NetworkModel([ns('x'), ns('y')]).allowed(a, b, 8080, 'TCP'), true);
    });
    it('policyTypes defaults to Ingress only, so an empty ingress-only policy does not isolate egress', () => {
      const m = new NetworkModel([ns('x'), np('x', { podSelector: {} })]);
      assert.equal(m.egressAllowed(a, c, 8080, 'TCP'), true);
      assert.equal(m.ingressAllowed(c, a, 8080, 'TCP'), false);
    });
    it('an egress section alone makes the policy an Egress policy too', () => {
      const m = new NetworkModel([ns('x'), np('x', { podSelector: { matchLabels: { role: 'a' } }, egress: [] })]);
      assert.equal(m.egressAllowed(a, b, 8080, 'TCP'), false);
      assert.equal(m.ingressAllowed(b, a, 8080, 'TCP'), false);
    });
    it('a podSelector peer means the policy namespace only', () => {
      const m = new NetworkModel([
        ns('x'),
        ns('y'),
        np('x', { podSelector: { matchLabels: { role: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'a' } } }] }] }),
      ]);
      assert.equal(m.allowed(a, b, 8080, 'TCP'), true);
      assert.equal(m.allowed(c, b, 8080, 'TCP'), false);
    });
    it('an empty from list admits every source; an empty rule list admits none', () => {
      const open = new NetworkModel([ns('x'), ns('y'), np('x', { podSelector: {}, ingress: [{}] })]);
      const closed = new NetworkModel([ns('x'), ns('y'), np('x', { podSelector: {}, ingress: [] })]);
      assert.equal(open.allowed(c, b, 8080, 'TCP'), true);
      assert.equal(closed.allowed(c, b, 8080, 'TCP'), false);
    });
    it('the protocol defaults to TCP and endPort makes a range', () => {
      const m = new NetworkModel([ns('x'), np('x', { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] })]);
      assert.equal(m.ingressAllowed(a, b, 8080, 'TCP'), true);
      assert.equal(m.ingressAllowed(a, b, 8080, 'UDP'), false);
      assert.equal(m.ingressAllowed(a, pod('x/d', {}, 9000), 9000, 'TCP'), false);
    });
    it('a connection needs both the egress and the ingress half', () => {
      const m = new NetworkModel([
        ns('x'),
        np('x', { podSelector: { matchLabels: { role: 'a' } }, policyTypes: ['Egress'], egress: [] }),
        np('x', { podSelector: { matchLabels: { role: 'b' } }, ingress: [{}] }),
      ]);
      assert.equal(m.ingressAllowed(a, b, 8080, 'TCP'), true);
      assert.equal(m.allowed(a, b, 8080, 'TCP'), false);
    });
  });
});

/** What k8s/components/tracing adds to the intended graph, and nothing else. */
const TRACING_EDGES: Cell[] = [
  ...['api-service', 'auth-service', 'images-service'].flatMap((service) =>
    [4318, 4317].map((port): Cell => ({ from: `app/${service}`, to: 'monitoring/otel-collector', port, protocol: 'TCP' })),
  ),
  { from: 'monitoring/otel-collector', to: 'monitoring/jaeger', port: 4317, protocol: 'TCP' },
  { from: 'monitoring/grafana', to: 'monitoring/jaeger', port: 16686, protocol: 'TCP' },
];

describe('NetworkPolicy truth table with the tracing component', kubectl, () => {
  const traced = () => {
    const { workspace } = renderedPlatform();
    return renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/tracing'));
  };
  const tracingPolicy = (objects: K8sObject[], namespace: string, name: string) => {
    const np = find(objects, 'NetworkPolicy', namespace, name);
    assert.ok(np, `NetworkPolicy ${namespace}/${name} not rendered`);
    return np;
  };

  it('equals the intended graph plus exactly the tracing paths, cell by cell', () => {
    const objects = traced();
    assert.deepEqual(differences(objects, TRACING_EDGES), []);
    const table = new Map(NAMESPACES.flatMap((ns) => [...truthTable(objects, ns)]));
    const allowed = (name: string) => {
      const cell = table.get(name);
      assert.ok(cell, `no cell ${name}`);
      return cell.allowed;
    };
    for (const edge of TRACING_EDGES) assert.equal(allowed(cellName(edge)), true, cellName(edge));
    // Denied, each for its own reason: the trace store only through the collector; the collector
    // only from the services; Prometheus scrapes neither; neither leaves the cluster.
    for (const name of [
      'app/api-service → monitoring/jaeger:4317/TCP',
      'app/images-service → monitoring/jaeger:16686/TCP',
      'app/postgres → monitoring/otel-collector:4318/TCP',
      'app/images-reconcile → monitoring/otel-collector:4318/TCP',
      'app/unlisted-pod → monitoring/otel-collector:4317/TCP',
      'default/other-app → monitoring/otel-collector:4318/TCP',
      'ingress-nginx/ingress-nginx-controller → monitoring/jaeger:16686/TCP',
      'monitoring/prometheus → monitoring/otel-collector:13133/TCP',
      'monitoring/prometheus → monitoring/jaeger:16686/TCP',
      'monitoring/grafana → monitoring/otel-collector:4318/TCP',
      'monitoring/jaeger → monitoring/otel-collector:4317/TCP',
      'monitoring/otel-collector → app/api-service:8080/TCP',
      'monitoring/otel-collector → external/internet:443/TCP',
      'monitoring/jaeger → external/internet:443/TCP',
    ]) {
      assert.equal(allowed(name), false, name);
    }
  });

  const broken: [string, (objects: K8sObject[]) => void, string][] = [
    [
      "the collector's ingress rule names no source (any pod of the cluster may send it spans)",
      (o) => delete field<Record<string, unknown>>(tracingPolicy(o, 'monitoring', 'otel-collector'), 'spec', 'ingress', 0)!.from,
      'allowed but not intended: default/other-app → monitoring/otel-collector:4318/TCP',
    ],
    [
      "the collector's source peer loses its namespaceSelector (a podSelector alone means namespace monitoring)",
      (o) => delete field<Record<string, unknown>>(tracingPolicy(o, 'monitoring', 'otel-collector'), 'spec', 'ingress', 0, 'from', 0)!.namespaceSelector,
      'intended but denied: app/api-service → monitoring/otel-collector:4318/TCP',
    ],
    [
      "Grafana's egress half to Jaeger is missing",
      (o) => o.splice(o.indexOf(tracingPolicy(o, 'monitoring', 'grafana-to-jaeger')), 1),
      'intended but denied: monitoring/grafana → monitoring/jaeger:16686/TCP',
    ],
    [
      "the services' egress half to the collector is missing",
      (o) => o.splice(o.indexOf(tracingPolicy(o, 'app', 'otel-export')), 1),
      'intended but denied: app/auth-service → monitoring/otel-collector:4318/TCP',
    ],
    [
      "Jaeger's query rule names no source",
      (o) => delete field<Record<string, unknown>>(tracingPolicy(o, 'monitoring', 'jaeger'), 'spec', 'ingress', 1)!.from,
      'allowed but not intended: default/other-app → monitoring/jaeger:16686/TCP',
    ],
  ];
  for (const [what, mutate, expected] of broken) {
    it(`fails when ${what}`, () => {
      const objects = traced();
      mutate(objects);
      const diff = differences(objects, TRACING_EDGES);
      assert.ok(diff.includes(expected), `expected "${expected}" among:\n${diff.join('\n') || '(no differences)'}`);
    });
  }
});
