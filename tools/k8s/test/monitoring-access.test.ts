/**
 * What the monitoring stack may reach and read, per cluster flavour: the API server on the port each
 * flavour uses, least-privilege RBAC derived from the scrape jobs, and stateless components as
 * Deployments (a dead node reschedules them; a StatefulSet pod waits for a force-delete).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { parse } from 'yaml';
import { NetworkModel, type Endpoint } from '../verify/netpol.js';
import { field, find, podTemplates, type K8sObject } from '../verify/objects.js';
import { renderedPlatform } from '../verify/render.js';
import { REPO_ROOT } from '../secrets.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

/** Where the API server's endpoint listens (what NetworkPolicies see after the Service's DNAT). */
const API_SERVER_PORTS: Record<string, number> = {
  kind: 6443,
  'k3d (k3s)': 6443,
  kubeadm: 6443,
  minikube: 8443,
  'GKE / EKS / AKS': 443,
  'Docker Desktop': 6443,
};

describe('monitoring access', kubectl, () => {
  const apiServer = (port: number): Endpoint => ({
    id: 'external/kube-apiserver',
    labels: {},
    ports: [{ name: 'https', containerPort: port, protocol: 'TCP' }],
    ip: '172.18.0.2',
  });
  const monitoringPod = (objects: K8sObject[], name: string): Endpoint => {
    const t = podTemplates(objects).find((p) => p.namespace === 'monitoring' && p.labels['app.kubernetes.io/name'] === name)!;
    return { id: t.id, namespace: t.namespace, labels: t.labels, ports: [] };
  };

  for (const [flavour, port] of Object.entries(API_SERVER_PORTS)) {
    it(`Prometheus and kube-state-metrics reach the API server on ${flavour} (port ${port})`, () => {
      const { objects } = renderedPlatform();
      const model = new NetworkModel(objects, ['monitoring']);
      for (const name of ['prometheus', 'kube-state-metrics'])
        assert.ok(model.egressAllowed(monitoringPod(objects, name), apiServer(port), port, 'TCP'), `${name} cannot reach the API server on ${port}`);
    });
  }

  it('Grafana and Alertmanager do not reach the API server', () => {
    const { objects } = renderedPlatform();
    const model = new NetworkModel(objects, ['monitoring']);
    assert.equal(model.egressAllowed(monitoringPod(objects, 'grafana'), apiServer(6443), 6443, 'TCP'), false);
    assert.equal(model.egressAllowed(monitoringPod(objects, 'alertmanager'), apiServer(6443), 6443, 'TCP'), false);
  });

  it("Prometheus' RBAC grants exactly what its scrape jobs discover, pods only in the namespaces they name", () => {
    const { objects } = renderedPlatform();
    const config = parse(readFileSync(join(REPO_ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[] }[];
    };
    const sd = config.scrape_configs.flatMap((j) => j.kubernetes_sd_configs ?? []);
    const bindings = objects.filter(
      (o) =>
        (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') &&
        (field<{ name: string; namespace: string }[]>(o, 'subjects') ?? []).some((s) => s.name === 'prometheus' && s.namespace === 'monitoring'),
    );
    const grants = new Set<string>();
    for (const b of bindings) {
      const role = find(
        objects,
        field<string>(b, 'roleRef', 'kind')!,
        b.kind === 'RoleBinding' ? b.metadata.namespace : undefined,
        field<string>(b, 'roleRef', 'name')!,
      );
      assert.ok(role, `${b.kind} ${b.metadata.name} names a missing role`);
      const scope = b.kind === 'RoleBinding' ? b.metadata.namespace! : '*';
      for (const rule of field<{ resources?: string[]; nonResourceURLs?: string[]; verbs: string[] }[]>(role, 'rules') ?? []) {
        for (const r of [...(rule.resources ?? []), ...(rule.nonResourceURLs ?? [])]) for (const v of rule.verbs) grants.add(`${scope} ${r} ${v}`);
      }
    }
    const needed = new Set<string>();
    for (const c of sd) {
      assert.ok(['node', 'pod'].includes(c.role), `update this test for role ${c.role}`);
      if (c.role === 'node') for (const v of ['get', 'list', 'watch']) needed.add(`* nodes ${v}`);
      if (c.role === 'pod') {
        assert.ok(c.namespaces?.names.length, 'pod discovery must name its namespaces (a cluster-wide pod list is not needed)');
        for (const ns of c.namespaces!.names) for (const v of ['get', 'list', 'watch']) needed.add(`${ns} pods ${v}`);
      }
    }
    // The kubelet authorises /metrics, /metrics/cadvisor and /metrics/probes as nodes/metrics.
    if (sd.some((c) => c.role === 'node')) needed.add('* nodes/metrics get');
    assert.deepEqual([...grants].sort(), [...needed].sort());
  });

  for (const name of ['kube-state-metrics', 'grafana']) {
    it(`${name} is a Deployment, not a StatefulSet`, () => {
      const { objects } = renderedPlatform();
      assert.ok(find(objects, 'Deployment', 'monitoring', name), `Deployment monitoring/${name} not rendered`);
      assert.equal(find(objects, 'StatefulSet', 'monitoring', name), undefined);
    });
  }
});
