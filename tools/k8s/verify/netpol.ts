/**
 * NetworkPolicy evaluation with the semantics of the Kubernetes API
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
 * - a pod is isolated for ingress (egress) when any policy in its namespace selects it and has
 *   that policy type; policyTypes defaults to Ingress, plus Egress when an egress section exists;
 * - an isolated pod admits a connection when at least one selecting policy has a rule matching
 *   both the peer and the port (rules and policies are additive, never subtractive);
 * - a connection needs BOTH the source's egress and the destination's ingress to allow it;
 * - in a peer, podSelector alone means pods of the policy's namespace, namespaceSelector alone
 *   means every pod of the matching namespaces, both in one element mean their intersection;
 * - ports name a number or a named container port of the destination pod, protocol TCP by default,
 *   optionally a range up to endPort; an empty `from`/`to` or `ports` list matches everything.
 */
import { field, podTemplates, selectorMatches, type IContainerPort, type K8sObject, type LabelSelector } from './objects.js';
import { policyTypes } from './gate.js';

export interface Endpoint {
  /** "<namespace>/<name>" for pods; "external/<name>" for addresses outside the cluster. */
  readonly id: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly ports: readonly IContainerPort[];
  /** IPv4 address for external endpoints (ipBlock matching). */
  readonly ip?: string;
}

export interface Cell {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
}

export const cellName = (c: Cell) => `${c.from} → ${c.to}:${c.port}/${c.protocol}`;

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}

interface PolicyRule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (!base || base.includes(':')) return false; // IPv6 blocks never match our IPv4 externals
  const bits = Number(bitsText ?? 32);
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0;
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(base) & mask) >>> 0;
}

export class NetworkModel {
  private readonly policies: K8sObject[];
  private readonly namespaceLabels: Map<string, Record<string, string>>;

  constructor(objects: readonly K8sObject[], extraNamespaces: readonly string[] = []) {
    this.policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    this.namespaceLabels = new Map();
    // The API server adds kubernetes.io/metadata.name to every namespace.
    for (const name of extraNamespaces) this.namespaceLabels.set(name, { 'kubernetes.io/metadata.name': name });
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
      this.namespaceLabels.set(ns.metadata.name, { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name });
    }
  }

  private peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      // Pod IPs are ephemeral; ipBlock is meant for addresses outside the cluster. A catch-all
      // block is still treated as matching pods too (CNIs such as Calico do), erring on "allowed".
      if (other.namespace === undefined) {
        return other.ip !== undefined && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.ip!, e));
      }
      return ['0.0.0.0/0', '::/0'].includes(peer.ipBlock.cidr) && (peer.ipBlock.except ?? []).length === 0;
    }
    if (other.namespace === undefined) return false; // selectors match pods only
    const nsLabels = this.namespaceLabels.get(other.namespace) ?? { 'kubernetes.io/metadata.name': other.namespace };
    if (peer.namespaceSelector) {
      if (!selectorMatches(peer.namespaceSelector, nsLabels)) return false;
    } else if (other.namespace !== policyNamespace) {
      return false;
    }
    return peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true;
  }

  private portMatches(ports: PolicyPort[] | undefined, destination: Endpoint, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'string') {
        // A named port means the destination pod's container port of that name and protocol.
        return destination.ports.some((cp) => cp.name === p.port && (cp.protocol ?? 'TCP') === protocol && cp.containerPort === port);
      }
      return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
    });
  }

  private selecting(pod: Endpoint, type: 'Ingress' | 'Egress'): K8sObject[] {
    if (pod.namespace === undefined) return [];
    return this.policies.filter(
      (np) =>
        np.metadata.namespace === pod.namespace &&
        policyTypes(np).includes(type) &&
        selectorMatches(field<LabelSelector>(np, 'spec', 'podSelector') ?? {}, pod.labels),
    );
  }

  egressAllowed(from: Endpoint, to: Endpoint, port: number, protocol: string): boolean {
    const policies = this.selecting(from, 'Egress');
    if (policies.length === 0) return true;
    return policies.some((np) =>
      (field<PolicyRule[]>(np, 'spec', 'egress') ?? []).some(
        (rule) =>
          (!rule.to || rule.to.length === 0 || rule.to.some((peer) => this.peerMatches(peer, np.metadata.namespace!, to))) &&
          this.portMatches(rule.ports, to, port, protocol),
      ),
    );
  }

  ingressAllowed(from: Endpoint, to: Endpoint, port: number, protocol: string): boolean {
    const policies = this.selecting(to, 'Ingress');
    if (policies.length === 0) return true;
    return policies.some((np) =>
      (field<PolicyRule[]>(np, 'spec', 'ingress') ?? []).some(
        (rule) =>
          (!rule.from || rule.from.length === 0 || rule.from.some((peer) => this.peerMatches(peer, np.metadata.namespace!, from))) &&
          this.portMatches(rule.ports, to, port, protocol),
      ),
    );
  }

  allowed(from: Endpoint, to: Endpoint, port: number, protocol: string): boolean {
    return this.egressAllowed(from, to, port, protocol) && this.ingressAllowed(from, to, port, protocol);
  }
}

/** Pods and addresses the platform's traffic involves but k8s/ does not create. */
export const EXTERNAL_ENDPOINTS: readonly Endpoint[] = [
  {
    // Labels of the official ingress-nginx install (kind, k3d, Docker Desktop) and minikube's addon.
    id: 'ingress-nginx/ingress-nginx-controller',
    namespace: 'ingress-nginx',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/instance': 'ingress-nginx' },
    ports: [
      { name: 'http', containerPort: 80, protocol: 'TCP' },
      { name: 'https', containerPort: 443, protocol: 'TCP' },
    ],
  },
  {
    // ingress-nginx's admission-webhook Jobs share the name label but are not the proxy.
    id: 'ingress-nginx/ingress-nginx-admission',
    namespace: 'ingress-nginx',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'admission-webhook' },
    ports: [{ name: 'webhook', containerPort: 8443, protocol: 'TCP' }],
  },
  {
    id: 'kube-system/coredns',
    namespace: 'kube-system',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
    ],
  },
  {
    // Some other workload of the cluster: must reach nothing of ours, and nothing of ours it.
    id: 'default/other-app',
    namespace: 'default',
    labels: { app: 'other-app', 'app.kubernetes.io/name': 'prometheus' },
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  },
  { id: 'external/internet', labels: {}, ports: [{ name: 'https', containerPort: 443, protocol: 'TCP' }], ip: '203.0.113.10' },
];

/**
 * Stand-ins while k8s/monitoring/ has no pods of its own: Prometheus (the one monitoring pod that
 * may scrape) and another monitoring pod (which may not).
 */
export const MONITORING_STAND_INS: readonly Endpoint[] = [
  {
    id: 'monitoring/prometheus',
    namespace: 'monitoring',
    labels: { 'app.kubernetes.io/name': 'prometheus' },
    ports: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }],
  },
  {
    id: 'monitoring/grafana-stand-in',
    namespace: 'monitoring',
    labels: { 'app.kubernetes.io/name': 'grafana' },
    ports: [{ name: 'http', containerPort: 3000, protocol: 'TCP' }],
  },
];

/**
 * A pod no manifest describes, in each of our namespaces: a `kubectl run` debug pod, or a workload
 * someone adds without a policy. Nobody allows it anything but DNS, so only the namespace's
 * default-deny keeps it closed: deleting that policy shows up as cells of this pod.
 */
export function unlistedPod(namespace: string): Endpoint {
  return { id: `${namespace}/unlisted-pod`, namespace, labels: { run: 'unlisted-pod' }, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] };
}

/** Every pod the manifests create (Deployments, StatefulSets, Jobs, CronJobs …), stand-ins, and the world around. */
export function endpointsOf(objects: readonly K8sObject[]): Endpoint[] {
  const pods: Endpoint[] = podTemplates(objects).map((t) => ({
    id: t.id,
    namespace: t.namespace,
    labels: t.labels,
    ports: t.spec.containers.flatMap((c) => c.ports ?? []),
  }));
  const hasMonitoringPods = pods.some((p) => p.namespace === 'monitoring');
  const ours = [...new Set([...pods.map((p) => p.namespace!), ...(hasMonitoringPods ? [] : ['monitoring'])])].sort();
  return [...pods, ...(hasMonitoringPods ? [] : MONITORING_STAND_INS), ...ours.map(unlistedPod), ...EXTERNAL_ENDPOINTS];
}

/**
 * Every cell (source, destination, destination port) that touches `namespace`, with whether the
 * policies allow it. Destinations are probed on each port they declare.
 */
export function truthTable(objects: readonly K8sObject[], namespace: string): Map<string, { cell: Cell; allowed: boolean }> {
  const endpoints = endpointsOf(objects);
  const model = new NetworkModel(
    objects,
    endpoints.map((e) => e.namespace).filter((n): n is string => n !== undefined),
  );
  const table = new Map<string, { cell: Cell; allowed: boolean }>();
  for (const from of endpoints) {
    if (from.namespace === undefined) continue; // the internet is not a source we model
    for (const to of endpoints) {
      if (from.namespace !== namespace && to.namespace !== namespace) continue;
      for (const p of to.ports) {
        const protocol = p.protocol ?? 'TCP';
        const cell: Cell = { from: from.id, to: to.id, port: p.containerPort, protocol };
        table.set(cellName(cell), { cell, allowed: model.allowed(from, to, p.containerPort, protocol) });
      }
    }
  }
  return table;
}

/** The intended graph as cell names: what must be allowed; every other cell must be denied. */
export function intendedCells(objects: readonly K8sObject[], namespace: string, edges: readonly Cell[]): Set<string> {
  const endpoints = endpointsOf(objects);
  const dns = endpoints.find((e) => e.labels['k8s-app'] === 'kube-dns')!;
  const cells = new Set(edges.map(cellName));
  // Every pod of the namespace may resolve names.
  for (const e of endpoints.filter((x) => x.namespace === namespace)) {
    for (const p of dns.ports) cells.add(cellName({ from: e.id, to: dns.id, port: p.containerPort, protocol: p.protocol ?? 'TCP' }));
  }
  return cells;
}

/** Differences between the computed table and the intent, one line per wrong cell. */
export function compareWithIntent(table: Map<string, { cell: Cell; allowed: boolean }>, intended: Set<string>): string[] {
  const problems: string[] = [];
  for (const [name, { allowed }] of table) {
    const want = intended.has(name);
    if (allowed && !want) problems.push(`allowed but not intended: ${name}`);
    if (!allowed && want) problems.push(`intended but denied: ${name}`);
  }
  for (const name of intended) if (!table.has(name)) problems.push(`intended cell names no endpoint/port of the manifests: ${name}`);
  return problems.sort();
}
