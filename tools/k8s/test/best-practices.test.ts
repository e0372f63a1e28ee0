/**
 * The best-practice gate (tools/k8s/verify/gate.ts) passes on every object k8s/ renders, and each
 * of its rules fails on a manifest broken in the way that rule exists to catch.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../secrets.js';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { checkBestPractices, rules } from '../verify/gate.js';
import { field, find, type IContainer, type IPodSpec, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

const podSpec = (o: K8sObject | undefined) => field<IPodSpec>(o, 'spec', 'template', 'spec')!;
const container = (o: K8sObject | undefined): IContainer => podSpec(o).containers[0]!;
const get = (objects: K8sObject[], kind: string, name: string) => {
  const o = find(objects, kind, 'app', name);
  assert.ok(o, `${kind} app/${name} not rendered`);
  return o;
};
const api = (o: K8sObject[]) => get(o, 'Deployment', 'api-service');

/** [rule name prefix, what is broken, mutation, expected finding] */
const broken: [string, string, (objects: K8sObject[]) => void, RegExp][] = [
  ['probes', 'a Deployment without a readiness probe', (o) => delete container(api(o)).readinessProbe, /api-service has no readinessProbe/],
  [
    'probes',
    'a StatefulSet container without a liveness probe',
    (o) => delete container(get(o, 'StatefulSet', 'postgres')).livenessProbe,
    /postgres has no livenessProbe/,
  ],
  ['probes', 'a probe on an undeclared port', (o) => (container(api(o)).livenessProbe!.httpGet!.port = 'admin'), /livenessProbe uses port admin/],
  [
    'probes',
    'liveness identical to readiness',
    (o) => (container(api(o)).livenessProbe = structuredClone(container(api(o)).readinessProbe)),
    /identical readiness and liveness/,
  ],
  [
    'resources',
    'a container without a memory limit',
    (o) => delete container(get(o, 'Deployment', 'auth-service')).resources!.limits!.memory,
    /auth-service has no memory limit/,
  ],
  [
    'resources',
    'a Job container without a CPU request',
    (o) => delete container(get(o, 'Job', 'minio-setup')).resources!.requests!.cpu,
    /minio-setup container mc has no cpu request/,
  ],
  [
    'security',
    'runAsNonRoot unset',
    (o) => {
      delete podSpec(api(o)).securityContext!.runAsNonRoot;
      delete container(api(o)).securityContext!.runAsNonRoot;
    },
    /runAsNonRoot is not true/,
  ],
  [
    'security',
    'a container running as root',
    (o) => (container(get(o, 'StatefulSet', 'minio')).securityContext!.runAsUser = 0),
    /minio container minio: runAsUser is not a numeric non-root uid/,
  ],
  [
    'security',
    'no seccomp profile',
    (o) => {
      delete podSpec(api(o)).securityContext!.seccompProfile;
      delete container(api(o)).securityContext!.seccompProfile;
    },
    /seccompProfile is not RuntimeDefault/,
  ],
  [
    'security',
    'privilege escalation allowed',
    (o) => (container(api(o)).securityContext!.allowPrivilegeEscalation = true),
    /allowPrivilegeEscalation is not false/,
  ],
  ['security', 'a writable root filesystem', (o) => (container(api(o)).securityContext!.readOnlyRootFilesystem = false), /readOnlyRootFilesystem is not true/],
  ['security', 'capabilities not dropped', (o) => (container(api(o)).securityContext!.capabilities = { drop: ['NET_RAW'] }), /capabilities do not drop ALL/],
  ['security', 'an added capability', (o) => (container(api(o)).securityContext!.capabilities!.add = ['SYS_ADMIN']), /adds capability SYS_ADMIN/],
  ['security', 'a privileged container', (o) => (container(api(o)).securityContext!.privileged = true), /is privileged/],
  ['host access', 'hostNetwork', (o) => (podSpec(api(o)).hostNetwork = true), /sets hostNetwork/],
  ['host access', 'a hostPath volume', (o) => podSpec(api(o)).volumes!.push({ name: 'host', hostPath: { path: '/var/run' } }), /mounts hostPath \/var\/run/],
  ['host access', 'a hostPort', (o) => (container(api(o)).ports![0]!.hostPort = 8080), /uses hostPort 8080/],
  ['images', 'the latest tag', (o) => (container(api(o)).image = 'ghcr.io/owner/api-service:latest'), /uses the latest tag/],
  ['images', 'no tag at all', (o) => (container(get(o, 'StatefulSet', 'postgres')).image = 'docker.io/library/postgres'), /has no tag/],
  [
    'service account token',
    'a token mounted without RBAC need',
    (o) => (podSpec(api(o)).automountServiceAccountToken = true),
    /api-service mounts a service-account token/,
  ],
  [
    'service account token',
    'the automount default left on',
    (o) => delete podSpec(get(o, 'Job', 'minio-setup')).automountServiceAccountToken,
    /minio-setup mounts a service-account token/,
  ],
  [
    'labels',
    'a pod template without app.kubernetes.io/part-of',
    (o) => delete field<Record<string, string>>(api(o), 'spec', 'template', 'metadata', 'labels')!['app.kubernetes.io/part-of'],
    /pod template has no app.kubernetes.io\/part-of/,
  ],
  [
    'metrics',
    'a management port without scrape annotations',
    (o) => delete field<Record<string, string>>(api(o), 'spec', 'template', 'metadata', 'annotations')!['prometheus.io/scrape'],
    /exposes management but has no prometheus.io\/scrape/,
  ],
  [
    'metrics',
    'a scrape annotation naming an undeclared port',
    (o) => (field<Record<string, string>>(api(o), 'spec', 'template', 'metadata', 'annotations')!['prometheus.io/port'] = '9100'),
    /prometheus.io\/port 9100 is not a declared port/,
  ],
  [
    'availability',
    'an HPA that may scale to a single replica',
    (o) => ((get(o, 'HorizontalPodAutoscaler', 'api-service').spec as Record<string, unknown>).minReplicas = 1),
    /may run fewer than 2 replicas/,
  ],
  [
    'availability',
    'replicas set on an HPA-managed Deployment (even equal to minReplicas)',
    (o) => ((api(o).spec as Record<string, unknown>).replicas = 2),
    /api-service sets replicas 2 although HPA api-service owns the count/,
  ],
  [
    'statefulsets',
    'a StatefulSet whose governing Service has a cluster IP',
    (o) => ((find(o, 'StatefulSet', 'monitoring', 'prometheus')!.spec as Record<string, unknown>).serviceName = 'prometheus'),
    /prometheus governing Service prometheus is not headless/,
  ],
  [
    'statefulsets',
    'a StatefulSet naming no Service',
    (o) => delete (get(o, 'StatefulSet', 'minio').spec as Record<string, unknown>).serviceName,
    /minio governing Service \(none\) does not exist/,
  ],
  [
    'statefulsets',
    'a stateless StatefulSet (no volumes of its own)',
    (o) => delete (get(o, 'StatefulSet', 'postgres').spec as Record<string, unknown>).volumeClaimTemplates,
    /postgres has no volumeClaimTemplates/,
  ],
  [
    'availability',
    'a declared singleton with a rolling update (two at once)',
    (o) => ((find(o, 'Deployment', 'monitoring', 'grafana')!.spec as Record<string, unknown>).strategy = { type: 'RollingUpdate' }),
    /grafana is a declared singleton but a RollingUpdate/,
  ],
  [
    'availability',
    'a single-replica Deployment that does not declare why',
    (o) => delete find(o, 'Deployment', 'monitoring', 'kube-state-metrics')!.metadata.annotations,
    /kube-state-metrics has no HorizontalPodAutoscaler/,
  ],
  [
    'availability',
    'no HPA',
    (o) => o.splice(o.indexOf(get(o, 'HorizontalPodAutoscaler', 'images-service')), 1),
    /images-service has no HorizontalPodAutoscaler/,
  ],
  ['availability', 'no PDB', (o) => o.splice(o.indexOf(get(o, 'PodDisruptionBudget', 'auth-service')), 1), /auth-service is covered by 0 PodDisruptionBudgets/],
  [
    'availability',
    'a PDB that blocks drains',
    (o) => ((get(o, 'PodDisruptionBudget', 'api-service').spec as Record<string, unknown>).minAvailable = 2),
    /minAvailable 2 is not below the minimum of 2 replicas/,
  ],
  ['availability', 'no topology spread', (o) => delete podSpec(api(o)).topologySpreadConstraints, /api-service does not spread its pods across nodes/],
  [
    'autoscaling',
    'an HPA aimed at a missing Deployment',
    (o) => (field<Record<string, string>>(get(o, 'HorizontalPodAutoscaler', 'auth-service'), 'spec', 'scaleTargetRef')!.name = 'auth'),
    /targets Deployment auth, which does not exist/,
  ],
  [
    'services',
    'a Service selecting no pods',
    (o) => (field<Record<string, string>>(get(o, 'Service', 'images-service'), 'spec', 'selector')!['app.kubernetes.io/name'] = 'images'),
    /images-service selects no pods/,
  ],
  [
    'services',
    'a targetPort the pods lack',
    (o) => (field<{ targetPort: string }[]>(get(o, 'Service', 'auth-service'), 'spec', 'ports')![0]!.targetPort = 'web'),
    /targets web, which Deployment app\/auth-service does not declare/,
  ],
  [
    'ingress',
    'a backend Service that does not exist',
    (o) => (field<{ name: string }>(get(o, 'Ingress', 'api-service'), 'spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service')!.name = 'gateway'),
    /backend gateway is not an existing Service/,
  ],
  [
    'ingress',
    'a backend port that does not exist',
    (o) => (field<{ port: unknown }>(get(o, 'Ingress', 'api-service'), 'spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service')!.port = { name: 'https' }),
    /port https does not exist/,
  ],
  [
    'network policies',
    'a policy selecting nothing',
    (o) =>
      (field<{ matchLabels: Record<string, string> }>(get(o, 'NetworkPolicy', 'postgres'), 'spec', 'podSelector')!.matchLabels['app.kubernetes.io/name'] =
        'postgresql'),
    /postgres selects no pods/,
  ],
  [
    'network policies',
    'pods outside every egress policy',
    (o) => {
      o.splice(o.indexOf(get(o, 'NetworkPolicy', 'default-deny-all')), 1);
      o.splice(o.indexOf(get(o, 'NetworkPolicy', 'allow-dns-egress')), 1);
    },
    /StatefulSet app\/postgres is not selected by any Egress NetworkPolicy/,
  ],
  [
    'namespaces',
    'a namespace without Pod Security enforcement',
    (o) => delete find(o, 'Namespace', undefined, 'app')!.metadata.labels!['pod-security.kubernetes.io/enforce'],
    /Namespace \/app does not enforce/,
  ],
  [
    'namespaces',
    'an object in a namespace nobody creates',
    (o) => (get(o, 'ConfigMap', 'postgres-init').metadata.namespace = 'data'),
    /postgres-init is in namespace data/,
  ],
  [
    'references',
    'a Secret key that app-secrets lacks',
    (o) => (container(get(o, 'Deployment', 'images-service')).env![0]!.valueFrom!.secretKeyRef!.key = 'IMAGES_DB_URL'),
    /Secret app\/app-secrets has no key IMAGES_DB_URL/,
  ],
  [
    'references',
    'a ConfigMap that does not exist',
    (o) => (container(get(o, 'Deployment', 'auth-service')).envFrom![0]!.configMapRef!.name = 'auth-config'),
    /envFrom ConfigMap app\/auth-config does not exist/,
  ],
  ['references', 'a mount of a missing volume', (o) => (container(api(o)).volumeMounts![0]!.name = 'scratch'), /mounts scratch, which is no volume/],
  [
    'shutdown',
    'a shutdown timeout longer than the grace period',
    (o) => (podSpec(api(o)).terminationGracePeriodSeconds = 20),
    /SHUTDOWN_TIMEOUT_MS 25000 is not below terminationGracePeriodSeconds \(20000 ms\)/,
  ],
  [
    'shutdown',
    'a drain delay longer than the shutdown timeout',
    (o) => ((get(o, 'ConfigMap', 'auth-service-config').data as Record<string, string>).DRAIN_DELAY_MS = '30000'),
    /DRAIN_DELAY_MS 30000 leaves no time/,
  ],
];

describe('best-practice gate', kubectl, () => {
  it('passes on everything k8s/ renders', () => {
    assert.deepEqual(checkBestPractices(renderedPlatform().objects), []);
  });

  it('passes on the chaos overlay', () => {
    const { workspace } = renderedPlatform();
    assert.deepEqual(checkBestPractices(renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/chaos'))), []);
  });

  it('docs/deploy.md maps every rule to its kube-score / Polaris / kube-linter counterpart', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const table = docs.slice(docs.indexOf('## The best-practice gate, check by check'), docs.indexOf('## Troubleshooting'));
    const documented = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(
      documented.sort(),
      Object.keys(rules)
        .map((name) => name.split(':')[0]!)
        .sort(),
    );
  });

  it('every rule has at least one broken-manifest test below', () => {
    const tested = new Set(broken.map(([prefix]) => prefix));
    for (const name of Object.keys(rules)) assert.ok(tested.has(name.split(':')[0]!), `no failing test for rule "${name}"`);
  });

  for (const [prefix, what, mutate, expected] of broken) {
    it(`${prefix}: fails on ${what}`, () => {
      const { objects } = renderedPlatform();
      mutate(objects);
      const findings = checkBestPractices(objects);
      assert.ok(findings.length > 0, 'the gate found nothing');
      assert.ok(
        findings.some((f) => f.startsWith(`[${prefix}]`) && expected.test(f)),
        `expected a [${prefix}] finding matching ${expected}, got:\n${findings.join('\n')}`,
      );
    });
  }
});
