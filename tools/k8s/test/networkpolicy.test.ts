/**
 * NetworkPolicy truth table: from the rendered policies, which pod may open a connection to which
 * pod and port (egress of the source AND ingress of the destination, Kubernetes semantics), compared
 * cell by cell with the intended graph of issue 5:
 *   ingress-nginx → gateway (app port); gateway → Auth, Images; Images → Auth (JWKS);
 *   Auth, Images → PostgreSQL; Images → MinIO; Prometheus (monitoring) → every metrics port;
 *   every pod → DNS; and the bucket setup Job → MinIO. Nothing else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import {
  cellName,
  compareWithIntent,
  endpointsOf,
  intendedCells,
  NetworkModel,
  truthTable,
  type Cell,
  type Endpoint,
} from '../verify/netpol.js';
import { field, find, type K8sObject } from '../verify/objects.js';
import { renderedPlatform } from '../verify/render.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

function intendedEdges(objects: readonly K8sObject[]): Cell[] {
  const prometheus = endpointsOf(objects).find((e) => e.namespace === 'monitoring' && e.labels['app.kubernetes.io/name'] === 'prometheus')!;
  const edge = (from: string, to: string, port: number): Cell => ({ from, to, port, protocol: 'TCP' });
  return [
    edge('ingress-nginx/ingress-nginx-controller', 'app/api-service', 8080),
    edge('app/api-service', 'app/auth-service', 8080),
    edge('app/api-service', 'app/images-service', 8080),
    edge('app/images-service', 'app/auth-service', 8080),
    edge('app/auth-service', 'app/postgres', 5432),
    edge('app/images-service', 'app/postgres', 5432),
    edge('app/images-service', 'app/minio', 9000),
    edge('app/minio-setup', 'app/minio', 9000),
    edge(prometheus.id, 'app/api-service', 9464),
    edge(prometheus.id, 'app/auth-service', 9464),
    edge(prometheus.id, 'app/images-service', 9464),
    edge(prometheus.id, 'app/postgres', 9187),
    // MinIO serves its metrics on the S3 port (/minio/v2/metrics/cluster).
    edge(prometheus.id, 'app/minio', 9000),
  ];
}

function differences(objects: readonly K8sObject[]): string[] {
  return compareWithIntent(truthTable(objects, 'app'), intendedCells(objects, 'app', intendedEdges(objects)));
}

const policy = (objects: K8sObject[], name: string) => {
  const np = find(objects, 'NetworkPolicy', 'app', name);
  assert.ok(np, `NetworkPolicy app/${name} not rendered`);
  return np;
};

describe('NetworkPolicy truth table (namespace app)', kubectl, () => {
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
      const m = new NetworkModel([ns('x'), ns('y'), np('x', { podSelector: { matchLabels: { role: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'a' } } }] }] })]);
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
