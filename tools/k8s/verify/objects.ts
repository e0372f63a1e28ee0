/** Typed views of rendered Kubernetes objects, shared by the verification checks. */
import type { IContainer, IContainerPort, IPodSpec, IProbe } from 'kubernetes-models/v1';

export type { IContainer, IContainerPort, IPodSpec, IProbe };

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  [key: string]: unknown;
}

export const key = (o: Pick<K8sObject, 'apiVersion' | 'kind' | 'metadata'>) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`;

export const ref = (o: Pick<K8sObject, 'kind' | 'metadata'>) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Loose access to a nested field of an object, for checks that read spec fields. */
export function field<T>(o: unknown, ...path: (string | number)[]): T | undefined {
  let cur: unknown = o;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur as T | undefined;
}

export interface PodTemplate {
  /** The owning workload. */
  readonly owner: K8sObject;
  readonly namespace: string;
  /** "<namespace>/<workload name>". */
  readonly id: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: IPodSpec;
  /** Long-running (Deployment, StatefulSet, DaemonSet) rather than run-to-completion (Job, CronJob). */
  readonly longRunning: boolean;
}

export const WORKLOAD_TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    const path = WORKLOAD_TEMPLATE_PATHS[o.kind];
    if (!path) continue;
    const template = field<{ metadata?: ObjectMeta; spec: IPodSpec }>(o, ...path);
    if (!template) continue;
    const namespace = o.metadata.namespace ?? 'default';
    out.push({
      owner: o,
      namespace,
      id: `${namespace}/${o.metadata.name}`,
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      spec: template.spec,
      longRunning: o.kind !== 'Job' && o.kind !== 'CronJob',
    });
  }
  return out;
}

export const allContainers = (spec: IPodSpec): IContainer[] => [...(spec.initContainers ?? []), ...spec.containers];

export function find(objects: readonly K8sObject[], kind: string, namespace: string | undefined, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? 'default') === (namespace ?? 'default'));
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expr.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${expr.operator}`);
    }
  }
  return true;
}

/** Resolves a probe/Service/policy port (number or name) against a container's ports. */
export function resolvePort(ports: readonly IContainerPort[], port: number | string, protocol = 'TCP'): IContainerPort | undefined {
  return ports.find((p) => (p.protocol ?? 'TCP') === protocol && (typeof port === 'number' ? p.containerPort === port : p.name === port));
}

export const podPorts = (spec: IPodSpec): IContainerPort[] => spec.containers.flatMap((c) => c.ports ?? []);

/**
 * The environment one container sees, as strings, resolved from ConfigMaps and Secrets among
 * `objects` (missing references are reported in `problems`).
 */
export function resolveEnv(objects: readonly K8sObject[], namespace: string, container: IContainer): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const data = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> | undefined => {
    const o = find(objects, kind, namespace, name);
    if (!o) return undefined;
    if (kind === 'ConfigMap') return (o.data ?? {}) as Record<string, string>;
    const decoded = Object.fromEntries(
      Object.entries((o.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
    return { ...decoded, ...((o.stringData ?? {}) as Record<string, string>) };
  };
  for (const source of container.envFrom ?? []) {
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const sourceRef = source.configMapRef ?? source.secretRef;
    if (!sourceRef?.name) continue;
    const values = data(kind, sourceRef.name);
    if (!values) {
      if (!sourceRef.optional) problems.push(`envFrom ${kind} ${namespace}/${sourceRef.name} does not exist`);
      continue;
    }
    for (const [k, v] of Object.entries(values)) env[(source.prefix ?? '') + k] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = e.value;
      continue;
    }
    const cm = e.valueFrom?.configMapKeyRef;
    const sec = e.valueFrom?.secretKeyRef;
    const sel = cm ?? sec;
    if (!sel) {
      if (e.valueFrom) problems.push(`${e.name}: only value, configMapKeyRef and secretKeyRef are understood here`);
      else env[e.name] = '';
      continue;
    }
    const kind = cm ? 'ConfigMap' : 'Secret';
    const values = data(kind, sel.name ?? '');
    const value = values?.[sel.key];
    if (value === undefined) {
      if (!sel.optional) problems.push(`${e.name}: ${kind} ${namespace}/${sel.name} has no key ${sel.key}`);
      continue;
    }
    env[e.name] = value;
  }
  return { env, problems };
}
