/**
 * The best-practice gate: rules over the rendered objects, each mapped in docs/deploy.md
 * (#the-best-practice-gate-check-by-check) to the kube-score, Polaris and kube-linter checks it
 * corresponds to, with every deliberate departure and its reason. Each rule returns its findings
 * (empty = pass); the tests run every rule on the real manifests and on a deliberately broken copy.
 */
// The platform's config module only (not its index, which loads the HTTP and database stack).
import { baseConfigShape, z } from '@sre/platform';
import {
  allContainers,
  field,
  find,
  podPorts,
  podTemplates,
  ref,
  resolveEnv,
  resolvePort,
  selectorMatches,
  type IContainer,
  type IProbe,
  type K8sObject,
  type LabelSelector,
  type PodTemplate,
} from './objects.js';

export type Rule = (objects: readonly K8sObject[]) => string[];

const RESTRICTED_CAPS_ALLOWED = new Set(['NET_BIND_SERVICE']);

/** Annotation of a Deployment that deliberately runs one replica; its value says why. */
export const SINGLETON_ANNOTATION = 'sre-platform/singleton';

function probePort(probe: IProbe): number | string | undefined {
  return probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
}

function describeProbe(probe: IProbe | undefined): string {
  return JSON.stringify({ ...probe, initialDelaySeconds: undefined, periodSeconds: undefined, failureThreshold: undefined });
}

const containerRef = (t: PodTemplate, c: IContainer) => `${ref(t.owner)} container ${c.name}`;

/** Platform defaults of the shutdown settings (the services' own schema, not a copied number). */
const platformDefaults = z.object(baseConfigShape).parse({});

export const rules: Record<string, Rule> = {
  'probes: long-running containers have readiness and liveness probes on declared ports, not identical': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      if (!t.longRunning) continue;
      for (const c of t.spec.containers) {
        const ports = c.ports ?? [];
        for (const [kind, probe] of [
          ['readinessProbe', c.readinessProbe],
          ['livenessProbe', c.livenessProbe],
          ['startupProbe', c.startupProbe],
        ] as const) {
          if (!probe) {
            if (kind !== 'startupProbe') out.push(`${containerRef(t, c)} has no ${kind}`);
            continue;
          }
          const port = probePort(probe);
          if (port !== undefined && !resolvePort(ports, port))
            out.push(`${containerRef(t, c)} ${kind} uses port ${port}, which the container does not declare`);
        }
        if (c.readinessProbe && c.livenessProbe && describeProbe(c.readinessProbe) === describeProbe(c.livenessProbe)) {
          out.push(`${containerRef(t, c)} has identical readiness and liveness probes (liveness must not fail on dependencies)`);
        }
      }
    }
    return out;
  },

  'resources: every container has CPU and memory requests and limits': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of allContainers(t.spec)) {
        for (const kind of ['requests', 'limits'] as const) {
          for (const res of ['cpu', 'memory']) {
            if (c.resources?.[kind]?.[res] === undefined) out.push(`${containerRef(t, c)} has no ${res} ${kind.slice(0, -1)}`);
          }
        }
      }
    }
    return out;
  },

  'security: restricted securityContext (non-root numeric user, RuntimeDefault seccomp, drop ALL, no escalation, read-only root)': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      const pod = t.spec.securityContext ?? {};
      for (const c of allContainers(t.spec)) {
        const sc = c.securityContext ?? {};
        const where = containerRef(t, c);
        if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) out.push(`${where}: runAsNonRoot is not true`);
        const uid = sc.runAsUser ?? pod.runAsUser;
        if (typeof uid !== 'number' || uid <= 0) out.push(`${where}: runAsUser is not a numeric non-root uid`);
        const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
        if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${where}: seccompProfile is not RuntimeDefault`);
        if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
        if (sc.readOnlyRootFilesystem !== true) out.push(`${where}: readOnlyRootFilesystem is not true`);
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${where}: capabilities do not drop ALL`);
        for (const cap of sc.capabilities?.add ?? []) if (!RESTRICTED_CAPS_ALLOWED.has(cap)) out.push(`${where}: adds capability ${cap}`);
        if (sc.privileged === true) out.push(`${where}: is privileged`);
      }
    }
    return out;
  },

  'host access: no hostNetwork, hostPID, hostIPC, hostPath or hostPort': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      for (const flag of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (t.spec[flag]) out.push(`${ref(t.owner)} sets ${flag}`);
      for (const v of t.spec.volumes ?? []) if (v.hostPath) out.push(`${ref(t.owner)} mounts hostPath ${v.hostPath.path}`);
      for (const c of allContainers(t.spec)) for (const p of c.ports ?? []) if (p.hostPort) out.push(`${containerRef(t, c)} uses hostPort ${p.hostPort}`);
    }
    return out;
  },

  'images: pinned by tag or digest, never latest': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of allContainers(t.spec)) {
        const image = c.image ?? '';
        if (image.includes('@sha256:')) continue;
        const lastPart = image.split('/').pop() ?? '';
        const tag = lastPart.includes(':') ? lastPart.split(':').pop() : undefined;
        if (!tag) out.push(`${containerRef(t, c)}: image ${image} has no tag`);
        else if (tag === 'latest') out.push(`${containerRef(t, c)}: image ${image} uses the latest tag`);
        if (c.imagePullPolicy === 'Always') out.push(`${containerRef(t, c)}: imagePullPolicy Always hides which image runs`);
      }
    }
    return out;
  },

  'service account token: automount off unless a binding grants the account API access': (objects) => {
    const bound = new Set<string>();
    for (const o of objects) {
      if (o.kind !== 'RoleBinding' && o.kind !== 'ClusterRoleBinding') continue;
      for (const s of field<{ kind: string; name: string; namespace?: string }[]>(o, 'subjects') ?? []) {
        if (s.kind === 'ServiceAccount') bound.add(`${s.namespace ?? o.metadata.namespace}/${s.name}`);
      }
    }
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      const account = `${t.namespace}/${t.spec.serviceAccountName ?? 'default'}`;
      const sa = find(objects, 'ServiceAccount', t.namespace, t.spec.serviceAccountName ?? 'default');
      const automount = t.spec.automountServiceAccountToken ?? (sa?.automountServiceAccountToken as boolean | undefined) ?? true;
      if (automount && !bound.has(account)) out.push(`${ref(t.owner)} mounts a service-account token (${account}) it has no RBAC binding for`);
    }
    return out;
  },

  'labels: workloads and pod templates carry app.kubernetes.io/name and part-of': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      for (const label of ['app.kubernetes.io/name', 'app.kubernetes.io/part-of']) {
        if (!t.owner.metadata.labels?.[label]) out.push(`${ref(t.owner)} has no ${label} label`);
        if (!t.labels[label]) out.push(`${ref(t.owner)} pod template has no ${label} label`);
      }
    }
    return out;
  },

  'metrics: pods with a metrics/management port have Prometheus scrape annotations naming a declared port': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      const ports = podPorts(t.spec);
      const metricsPort = ports.find((p) => p.name === 'management' || p.name === 'metrics');
      const annotated = t.annotations['prometheus.io/scrape'] === 'true';
      if (metricsPort && !annotated) out.push(`${ref(t.owner)} exposes ${metricsPort.name} but has no prometheus.io/scrape annotation`);
      if (annotated) {
        const port = Number(t.annotations['prometheus.io/port']);
        if (!ports.some((p) => p.containerPort === port))
          out.push(`${ref(t.owner)} prometheus.io/port ${t.annotations['prometheus.io/port']} is not a declared port`);
      }
    }
    return out;
  },

  'availability: Deployments run ≥ 2 replicas spread across nodes, with an HPA and a PDB below its minimum': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      if (t.owner.kind !== 'Deployment') continue;
      const name = ref(t.owner);
      // A declared singleton (kube-state-metrics, Grafana: two copies would duplicate series or
      // split sessions) states why in this annotation, and must then really be one pod at a time.
      const singletonReason = t.owner.metadata.annotations?.[SINGLETON_ANNOTATION];
      if (singletonReason !== undefined) {
        if (singletonReason.trim().length < 10) out.push(`${name}: ${SINGLETON_ANNOTATION} must say why it runs one replica`);
        if (field(t.owner, 'spec', 'replicas') !== 1) out.push(`${name} is a declared singleton but does not set replicas: 1`);
        if (field(t.owner, 'spec', 'strategy', 'type') !== 'Recreate') out.push(`${name} is a declared singleton but a RollingUpdate would run two at once`);
        continue;
      }
      const replicas = field<number>(t.owner, 'spec', 'replicas') ?? 1;
      const hpa = objects.find(
        (o) =>
          o.kind === 'HorizontalPodAutoscaler' &&
          o.metadata.namespace === t.namespace &&
          field(o, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' &&
          field(o, 'spec', 'scaleTargetRef', 'name') === t.owner.metadata.name,
      );
      const minReplicas = hpa ? (field<number>(hpa, 'spec', 'minReplicas') ?? 1) : replicas;
      if (!hpa) out.push(`${name} has no HorizontalPodAutoscaler`);
      if ((hpa ? minReplicas : replicas) < 2) out.push(`${name} may run fewer than 2 replicas (replicas ${replicas}, HPA min ${minReplicas})`);
      // An HPA-managed Deployment leaves replicas to the HPA: any value is reset by every
      // `kubectl apply` and fights the autoscaler (kube-score: deployment-targeted-by-hpa-does-not-have-replicas-configured).
      if (hpa && field(t.owner, 'spec', 'replicas') !== undefined) {
        out.push(`${name} sets replicas ${replicas} although HPA ${hpa.metadata.name} owns the count`);
      }
      const spread =
        (t.spec.topologySpreadConstraints ?? []).some(
          (c) => c.topologyKey === 'kubernetes.io/hostname' && selectorMatches(c.labelSelector as LabelSelector, t.labels),
        ) ||
        (t.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).some(
          (a) => a.podAffinityTerm.topologyKey === 'kubernetes.io/hostname',
        );
      if (!spread) out.push(`${name} does not spread its pods across nodes`);
      const pdbs = objects.filter(
        (o) =>
          o.kind === 'PodDisruptionBudget' &&
          o.metadata.namespace === t.namespace &&
          selectorMatches(field<LabelSelector>(o, 'spec', 'selector') ?? { matchLabels: { '': 'no selector' } }, t.labels),
      );
      if (pdbs.length !== 1) out.push(`${name} is covered by ${pdbs.length} PodDisruptionBudgets (want exactly 1)`);
      for (const pdb of pdbs) {
        const minAvailable = field<number | string>(pdb, 'spec', 'minAvailable');
        if (typeof minAvailable !== 'number') out.push(`${ref(pdb)} has no numeric minAvailable`);
        else if (minAvailable >= minReplicas)
          out.push(`${ref(pdb)} minAvailable ${minAvailable} is not below the minimum of ${minReplicas} replicas (drains would block)`);
      }
    }
    return out;
  },

  'statefulsets: each has volumes of its own and a headless governing Service selecting its pods': (objects) => {
    const out: string[] = [];
    for (const sts of objects.filter((o) => o.kind === 'StatefulSet')) {
      const name = ref(sts);
      // Without volumes of its own a StatefulSet buys nothing but a pod that, on a dead node, waits
      // for a force-delete: stateless components are Deployments.
      if ((field<unknown[]>(sts, 'spec', 'volumeClaimTemplates') ?? []).length === 0)
        out.push(`${name} has no volumeClaimTemplates: a stateless component belongs in a Deployment`);
      const serviceName = field<string>(sts, 'spec', 'serviceName');
      const svc = serviceName ? find(objects, 'Service', sts.metadata.namespace, serviceName) : undefined;
      if (!svc) {
        out.push(`${name} governing Service ${serviceName ?? '(none)'} does not exist`);
        continue;
      }
      if (field(svc, 'spec', 'clusterIP') !== 'None') out.push(`${name} governing Service ${serviceName} is not headless (clusterIP: None)`);
      const podLabels = field<Record<string, string>>(sts, 'spec', 'template', 'metadata', 'labels') ?? {};
      if (!selectorMatches({ matchLabels: field<Record<string, string>>(svc, 'spec', 'selector') ?? { '': 'no selector' } }, podLabels))
        out.push(`${name} governing Service ${serviceName} does not select its pods`);
    }
    return out;
  },

  'autoscaling: every HPA targets an existing workload': (objects) => {
    const out: string[] = [];
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const kind = field<string>(hpa, 'spec', 'scaleTargetRef', 'kind') ?? '';
      const name = field<string>(hpa, 'spec', 'scaleTargetRef', 'name') ?? '';
      if (!find(objects, kind, hpa.metadata.namespace, name)) out.push(`${ref(hpa)} targets ${kind} ${name}, which does not exist`);
    }
    return out;
  },

  'services: every Service selects pods and its targetPorts exist on them': (objects) => {
    const out: string[] = [];
    const templates = podTemplates(objects);
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const selector = field<Record<string, string>>(svc, 'spec', 'selector');
      if (!selector || Object.keys(selector).length === 0) {
        out.push(`${ref(svc)} has no selector`);
        continue;
      }
      const selected = templates.filter((t) => t.namespace === (svc.metadata.namespace ?? 'default') && selectorMatches({ matchLabels: selector }, t.labels));
      if (selected.length === 0) out.push(`${ref(svc)} selects no pods`);
      for (const p of field<{ name?: string; port: number; targetPort?: number | string; protocol?: string }[]>(svc, 'spec', 'ports') ?? []) {
        for (const t of selected) {
          if (!resolvePort(podPorts(t.spec), p.targetPort ?? p.port, p.protocol ?? 'TCP')) {
            out.push(`${ref(svc)} port ${p.name ?? p.port} targets ${p.targetPort ?? p.port}, which ${ref(t.owner)} does not declare`);
          }
        }
      }
    }
    return out;
  },

  'ingress: every backend is an existing Service port': (objects) => {
    const out: string[] = [];
    for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
      const backends = [
        field<unknown>(ing, 'spec', 'defaultBackend'),
        ...(field<{ http?: { paths: { backend: unknown }[] } }[]>(ing, 'spec', 'rules') ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
      ].filter((b) => b !== undefined);
      for (const b of backends) {
        const name = field<string>(b, 'service', 'name');
        const port = field<{ name?: string; number?: number }>(b, 'service', 'port');
        const svc = name ? find(objects, 'Service', ing.metadata.namespace, name) : undefined;
        if (!svc) {
          out.push(`${ref(ing)} backend ${name ?? JSON.stringify(b)} is not an existing Service`);
          continue;
        }
        const ports = field<{ name?: string; port: number }[]>(svc, 'spec', 'ports') ?? [];
        if (!ports.some((p) => (port?.name !== undefined ? p.name === port.name : p.port === port?.number))) {
          out.push(`${ref(ing)} backend ${name} port ${port?.name ?? port?.number} does not exist on the Service`);
        }
      }
    }
    return out;
  },

  'network policies: each selects pods, and every pod is covered for ingress and egress': (objects) => {
    const out: string[] = [];
    const templates = podTemplates(objects);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    for (const np of policies) {
      const selector = field<LabelSelector>(np, 'spec', 'podSelector') ?? {};
      if (!templates.some((t) => t.namespace === np.metadata.namespace && selectorMatches(selector, t.labels))) out.push(`${ref(np)} selects no pods`);
    }
    for (const t of templates) {
      for (const type of ['Ingress', 'Egress']) {
        const covered = policies.some(
          (np) =>
            np.metadata.namespace === t.namespace &&
            selectorMatches(field<LabelSelector>(np, 'spec', 'podSelector') ?? {}, t.labels) &&
            policyTypes(np).includes(type),
        );
        if (!covered) out.push(`${ref(t.owner)} is not selected by any ${type} NetworkPolicy`);
      }
    }
    return out;
  },

  'namespaces: every namespace used exists and enforces Pod Security "restricted"': (objects) => {
    const out: string[] = [];
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    for (const ns of namespaces) {
      if (ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') out.push(`${ref(ns)} does not enforce Pod Security "restricted"`);
    }
    const names = new Set(namespaces.map((n) => n.metadata.name));
    for (const o of objects) {
      const ns = o.metadata.namespace;
      if (ns !== undefined && !names.has(ns)) out.push(`${ref(o)} is in namespace ${ns}, which the manifests do not create`);
    }
    return out;
  },

  'references: every Secret, ConfigMap and PVC a pod uses exists with the keys it reads': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of allContainers(t.spec)) {
        for (const p of resolveEnv(objects, t.namespace, c).problems) out.push(`${containerRef(t, c)}: ${p}`);
      }
      const claimTemplates = new Set((field<{ metadata: { name: string } }[]>(t.owner, 'spec', 'volumeClaimTemplates') ?? []).map((v) => v.metadata.name));
      for (const v of t.spec.volumes ?? []) {
        if (v.secret && !v.secret.optional && !find(objects, 'Secret', t.namespace, v.secret.secretName ?? ''))
          out.push(`${ref(t.owner)} volume ${v.name}: Secret ${v.secret.secretName} does not exist`);
        if (v.configMap && !v.configMap.optional && !find(objects, 'ConfigMap', t.namespace, v.configMap.name ?? ''))
          out.push(`${ref(t.owner)} volume ${v.name}: ConfigMap ${v.configMap.name} does not exist`);
        if (v.persistentVolumeClaim && !find(objects, 'PersistentVolumeClaim', t.namespace, v.persistentVolumeClaim.claimName))
          out.push(`${ref(t.owner)} volume ${v.name}: PVC ${v.persistentVolumeClaim.claimName} does not exist`);
      }
      for (const c of allContainers(t.spec)) {
        for (const m of c.volumeMounts ?? []) {
          if (!(t.spec.volumes ?? []).some((v) => v.name === m.name) && !claimTemplates.has(m.name))
            out.push(`${containerRef(t, c)} mounts ${m.name}, which is no volume`);
        }
      }
    }
    return out;
  },

  'shutdown: drain delay and shutdown timeout fit in terminationGracePeriodSeconds': (objects) => {
    const out: string[] = [];
    for (const t of podTemplates(objects)) {
      const graceMs = (t.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      for (const c of t.spec.containers) {
        const { env } = resolveEnv(objects, t.namespace, c);
        if (env.DRAIN_DELAY_MS === undefined && env.SHUTDOWN_TIMEOUT_MS === undefined && !c.ports?.some((p) => p.name === 'management')) continue;
        const drain = Number(env.DRAIN_DELAY_MS ?? platformDefaults.DRAIN_DELAY_MS);
        const timeout = Number(env.SHUTDOWN_TIMEOUT_MS ?? platformDefaults.SHUTDOWN_TIMEOUT_MS);
        const preStopSleepMs = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
        if (drain >= timeout) out.push(`${containerRef(t, c)}: DRAIN_DELAY_MS ${drain} leaves no time before SHUTDOWN_TIMEOUT_MS ${timeout}`);
        if (preStopSleepMs + timeout >= graceMs) {
          out.push(
            `${containerRef(t, c)}: preStop ${preStopSleepMs} ms + SHUTDOWN_TIMEOUT_MS ${timeout} is not below terminationGracePeriodSeconds (${graceMs} ms): SIGKILL would cut the shutdown`,
          );
        }
        const readinessPeriodMs = (c.readinessProbe?.periodSeconds ?? 10) * 1000;
        // Draining is for a container that receives traffic: one with no ports (a CronJob running a
        // service's command, like the Images reconcile) is in no Service's endpoints.
        const served = (c.ports ?? []).length > 0;
        if (served && drain + preStopSleepMs < readinessPeriodMs)
          out.push(`${containerRef(t, c)}: drain ${drain} ms is shorter than one readiness period (${readinessPeriodMs} ms)`);
      }
    }
    return out;
  },
};

export function policyTypes(np: K8sObject): string[] {
  const declared = field<string[]>(np, 'spec', 'policyTypes');
  if (declared && declared.length > 0) return declared;
  return field(np, 'spec', 'egress') !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function checkBestPractices(objects: readonly K8sObject[]): string[] {
  return Object.entries(rules).flatMap(([name, rule]) => rule(objects).map((finding) => `[${name.split(':')[0]}] ${finding}`));
}
