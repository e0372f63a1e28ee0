/**
 * The plan of `npm run cluster:up` / `cluster:down`: every command, in order, as data. The runner
 * (main.ts) executes it or, with --dry-run, prints it; tools/k8s/test/cluster.test.ts checks it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { podTemplates, type K8sObject } from '../verify/objects.js';
import { filesOfApplyPath, parseManifests, SEED_APPLY_PATHS } from '../verify/render.js';
import { applyLoadGenerator, LOADGENERATOR } from './loadgenerator.js';
import { applyTracing } from './tracing.js';
import type { ClusterOptions, Engine, Provider, Step } from './types.js';
import { manifestUrls, type Versions } from './versions.js';

export type { ClusterOptions, Engine, Provider, Step };

export const SERVICES = [
  { image: 'api-service', dockerfile: 'services/gateway/Dockerfile' },
  { image: 'auth-service', dockerfile: 'services/auth/Dockerfile' },
  { image: 'images-service', dockerfile: 'services/images/Dockerfile' },
] as const;

export const kubeContext = (o: ClusterOptions) => o.context ?? (o.provider === 'kind' ? `kind-${o.name}` : o.provider === 'k3d' ? `k3d-${o.name}` : o.name);

/** kind: a worker beside the control plane, kindnet off (Calico instead), 80/443 on localhost. */
export function kindConfig(): string {
  return `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
    extraPortMappings:
      - { containerPort: 80, hostPort: 80, protocol: TCP }
      - { containerPort: 443, hostPort: 443, protocol: TCP }
  - role: worker
`;
}

const WAIT = '--timeout=300s';

/** The image each Deployment should run: built and loaded locally, or the given pushed images. */
export function imageRefs(o: ClusterOptions, version: string): Record<string, string> {
  return Object.fromEntries(SERVICES.map((s) => [s.image, imageRef(o, version, s.image)]));
}

const imageRef = (o: ClusterOptions, version: string, image: string) =>
  o.images ? `${o.images.repository}/${image}:${o.images.tag}` : `localhost/sre-platform/${image}:${version}-local`;

/** The images this run builds: the three services, and the load generator when asked for. */
function builtImages(o: ClusterOptions, version: string): { ref: string; dockerfile: string }[] {
  const all: { image: string; dockerfile: string }[] = [...SERVICES, ...(o.withLoadGenerator ? [LOADGENERATOR] : [])];
  return all.map((i) => ({ ref: imageRef(o, version, i.image), dockerfile: i.dockerfile }));
}

function createCluster(o: ClusterOptions, v: Versions): Step[] {
  const kindEnv = o.engine === 'podman' ? { KIND_EXPERIMENTAL_PROVIDER: 'podman' } : undefined;
  switch (o.provider) {
    case 'kind': {
      const config = join(o.workDir, 'kind.yaml');
      return [
        { title: 'write the kind cluster config (no default CNI, ports 80/443 on localhost)', write: { path: config, content: kindConfig() } },
        {
          title: `create kind cluster ${o.name} (${v.kind.nodeImage.split('@')[0]})`,
          argv: ['kind', 'create', 'cluster', '--name', o.name, '--config', config, '--image', v.kind.nodeImage],
          ...(kindEnv ? { env: kindEnv } : {}),
          unless: { argv: ['kind', 'get', 'clusters'], stdoutMatches: new RegExp(`^${o.name}$`, 'm') },
          createsCluster: true,
        },
      ];
    }
    case 'k3d':
      return [
        {
          title: `create k3d cluster ${o.name} (${v.k3d.k3sImage}, Traefik off for ingress-nginx)`,
          argv: [
            'k3d',
            'cluster',
            'create',
            o.name,
            '--image',
            v.k3d.k3sImage,
            '--agents',
            '1',
            '--k3s-arg',
            '--disable=traefik@server:0',
            '-p',
            '80:80@loadbalancer',
            '-p',
            '443:443@loadbalancer',
            '--wait',
          ],
          unless: { argv: ['k3d', 'cluster', 'get', o.name] },
          createsCluster: true,
        },
      ];
    case 'minikube':
      return [
        {
          title: `create minikube cluster ${o.name} (Kubernetes ${v.minikube.kubernetesVersion}, Calico)`,
          argv: [
            'minikube',
            'start',
            '-p',
            o.name,
            '--driver',
            o.engine,
            '--cni',
            'calico',
            '--kubernetes-version',
            v.minikube.kubernetesVersion,
            '--nodes',
            '2',
            '--memory',
            '4g',
          ],
          unless: { argv: ['minikube', 'status', '-p', o.name] },
          createsCluster: true,
        },
      ];
  }
}

function addons(o: ClusterOptions, v: Versions, k: (...args: string[]) => string[]): Step[] {
  const url = manifestUrls(v);
  const existing = o.context !== undefined;
  const steps: Step[] = [];
  // NetworkPolicy enforcement: Calico on kind (kindnet off) and minikube (--cni calico); k3s
  // enforces with its embedded controller; an existing cluster keeps its own CNI (docs/deploy.md).
  if (!existing && o.provider === 'kind')
    steps.push({ title: `install Calico ${v.calico.version} (enforces NetworkPolicy)`, argv: k('apply', '-f', url.calico) });
  if (!existing && o.provider !== 'k3d')
    steps.push({ title: 'wait for Calico', argv: k('-n', 'kube-system', 'rollout', 'status', 'daemonset/calico-node', WAIT) });
  steps.push({ title: 'wait for every node to be Ready', argv: k('wait', '--for=condition=Ready', 'nodes', '--all', WAIT) });

  steps.push({
    title: `install local-path-provisioner ${v.localPathProvisioner.version} as the default StorageClass (only if none is default)`,
    argv: k('apply', '-f', url.localPathProvisioner),
    unless: {
      argv: k('get', 'storageclass', '-o', 'jsonpath={.items[*].metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class}'),
      stdoutMatches: /true/,
    },
  });
  steps.push({
    title: 'make local-path the default StorageClass (only if none is default)',
    argv: k('patch', 'storageclass', 'local-path', '-p', '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'),
    unless: {
      argv: k('get', 'storageclass', '-o', 'jsonpath={.items[*].metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class}'),
      stdoutMatches: /true/,
    },
  });

  if (o.provider === 'minikube' && !existing)
    steps.push({ title: 'enable the ingress addon (ingress-nginx)', argv: ['minikube', '-p', o.name, 'addons', 'enable', 'ingress'] });
  else {
    steps.push({
      title: `install ingress-nginx ${v.ingressNginx.version}${existing ? ' (only if the cluster has none)' : ''}`,
      argv: k('apply', '-f', o.provider === 'kind' && !existing ? url.ingressNginxKind : url.ingressNginxCloud),
      ...(existing ? { unless: { argv: k('get', 'namespace', 'ingress-nginx') } } : {}),
    });
  }
  steps.push({ title: 'wait for ingress-nginx', argv: k('-n', 'ingress-nginx', 'rollout', 'status', 'deployment/ingress-nginx-controller', WAIT) });
  // The Ingress is rejected until the admission webhook's certificate Jobs have run.
  steps.push({
    title: 'wait for the ingress-nginx admission webhook',
    argv: k('-n', 'ingress-nginx', 'wait', '--for=condition=complete', 'job', '--all', WAIT),
  });

  if (o.provider === 'minikube' && !existing)
    steps.push({ title: 'enable the metrics-server addon (for the HPAs)', argv: ['minikube', '-p', o.name, 'addons', 'enable', 'metrics-server'] });
  else if (o.provider === 'kind' || existing) {
    const unless = existing ? { unless: { argv: k('get', 'apiservice', 'v1beta1.metrics.k8s.io') } } : {};
    steps.push({
      title: `install metrics-server ${v.metricsServer.version} (for the HPAs)${existing ? ' (only if the cluster has none)' : ''}`,
      argv: k('apply', '-f', url.metricsServer),
      ...unless,
    });
    // kind's kubelets serve self-signed certificates.
    if (!existing)
      steps.push({
        title: "let metrics-server accept the kubelets' self-signed certificates (--kubelet-insecure-tls)",
        argv: k(
          '-n',
          'kube-system',
          'patch',
          'deployment',
          'metrics-server',
          '--type=json',
          '-p',
          '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]',
        ),
      });
  }
  // k3s ships metrics-server (already insecure-tls towards its kubelets).
  steps.push({ title: 'wait for metrics-server', argv: k('-n', 'kube-system', 'rollout', 'status', 'deployment/metrics-server', WAIT) });
  return steps;
}

function images(o: ClusterOptions, version: string): Step[] {
  if (o.images) return [];
  const built = builtImages(o, version);
  const builds: Step[] = built.map((b) => ({ title: `build ${b.ref} (${o.engine})`, argv: [o.engine, 'build', '-f', b.dockerfile, '-t', b.ref, '.'] }));
  if (o.context === 'docker-desktop') return builds; // Docker Desktop's cluster sees the engine's images.
  const archive = join(o.workDir, 'images.tar');
  const all = built.map((b) => b.ref);
  const save: Step = {
    title: `save the ${all.length} images to one archive`,
    argv: [o.engine, 'save', ...(o.engine === 'podman' ? ['--multi-image-archive'] : []), '-o', archive, ...all],
  };
  const load: Record<Provider, string[]> = {
    kind: ['kind', 'load', 'image-archive', archive, '--name', o.name],
    k3d: ['k3d', 'image', 'import', archive, '--cluster', o.name],
    minikube: ['minikube', '-p', o.name, 'image', 'load', archive],
  };
  return [
    ...builds,
    save,
    {
      title: `load the images into the cluster (${load[o.provider][0]}, no registry)`,
      argv: load[o.provider],
      ...(o.engine === 'podman' && o.provider === 'kind' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {}),
    },
  ];
}

/**
 * The workloads of k8s/ to wait for: the data tier first, then the set-up Jobs, then the rest.
 * CronJobs are left out: nothing of theirs runs until their schedule fires.
 */
export function workloads(repoRoot: string): K8sObject[] {
  const objects = SEED_APPLY_PATHS.filter((p) => p !== 'secrets.yaml').flatMap((p) =>
    filesOfApplyPath(join(repoRoot, 'k8s', p)).flatMap((f) => parseManifests(readFileSync(f, 'utf8'), f)),
  );
  const rank = (o: K8sObject) => (o.kind === 'StatefulSet' ? 0 : o.kind === 'Job' ? 1 : 2);
  return podTemplates(objects)
    .map((t) => t.owner)
    .filter((o) => o.kind !== 'CronJob')
    .sort((a, b) => rank(a) - rank(b));
}

export function planUp(o: ClusterOptions, v: Versions, version: string): Step[] {
  const k = (...args: string[]) => ['kubectl', '--context', kubeContext(o), ...args];
  const refs = imageRefs(o, version);
  const manifests = join(o.workDir, 'k8s');
  const secrets = join(o.repoRoot, 'k8s/secrets.yaml');
  const tls = join(o.repoRoot, 'k8s/tls/app-tls.yaml');
  const apply: Step[] = SEED_APPLY_PATHS.flatMap((p): Step[] => {
    const step: Step = { title: `apply k8s/${p}`, argv: k('apply', '-f', p === 'secrets.yaml' ? secrets : join(manifests, p)) };
    // The TLS secret goes with the other secrets (cert-manager may provide it instead: docs/deploy.md).
    return p === 'secrets.yaml' ? [step, { title: 'apply k8s/tls/app-tls.yaml', argv: k('apply', '-f', tls) }] : [step];
  });
  const waits: Step[] = workloads(o.repoRoot).map((w) =>
    w.kind === 'Job'
      ? {
          title: `wait for job ${w.metadata.namespace}/${w.metadata.name}`,
          argv: k('-n', w.metadata.namespace!, 'wait', '--for=condition=complete', `job/${w.metadata.name}`, '--timeout=600s'),
        }
      : {
          title: `wait for ${w.kind.toLowerCase()} ${w.metadata.namespace}/${w.metadata.name}`,
          argv: k('-n', w.metadata.namespace!, 'rollout', 'status', `${w.kind.toLowerCase()}/${w.metadata.name}`, '--timeout=600s'),
        },
  );
  return [
    ...(o.context ? [] : createCluster(o, v)),
    ...addons(o, v, k),
    ...images(o, version),
    {
      title: 'generate k8s/secrets.yaml (kept if it exists)',
      argv: ['bash', join(o.repoRoot, 'tools/k8s/secrets.sh')],
      unless: { argv: ['test', '-f', secrets] },
    },
    {
      title: 'generate the self-signed TLS secret k8s/tls/app-tls.yaml (kept if it exists)',
      argv: ['bash', join(o.repoRoot, 'tools/k8s/tls.sh')],
      unless: { argv: ['test', '-f', tls] },
    },
    { title: `copy k8s/ to ${manifests} with the images ${Object.values(refs).join(', ')}`, copyManifests: { to: manifests, images: refs } },
    ...apply,
    ...waits,
    ...(o.withTracing ? applyTracing(o, k) : []),
    ...(o.withLoadGenerator ? applyLoadGenerator(o, imageRef(o, version, LOADGENERATOR.image), k) : []),
  ];
}

export function planDown(o: ClusterOptions): Step[] {
  if (o.context) {
    const k = (...args: string[]) => ['kubectl', '--context', kubeContext(o), ...args];
    // Someone else's cluster: remove only what cluster:up applied, never the cluster or its add-ons.
    return [
      {
        title: 'delete namespaces app and monitoring',
        argv: k('delete', 'namespace', 'app', 'monitoring', '--ignore-not-found', '--wait=true', '--timeout=300s'),
      },
      {
        title: "delete the platform's cluster-wide RBAC",
        argv: k('delete', 'clusterrole,clusterrolebinding', '-l', 'app.kubernetes.io/part-of=sre-platform', '--ignore-not-found'),
      },
    ];
  }
  const del: Record<Provider, string[]> = {
    kind: ['kind', 'delete', 'cluster', '--name', o.name],
    k3d: ['k3d', 'cluster', 'delete', o.name],
    minikube: ['minikube', 'delete', '-p', o.name],
  };
  return [
    {
      title: `delete ${o.provider} cluster ${o.name}`,
      argv: del[o.provider],
      ...(o.engine === 'podman' && o.provider === 'kind' ? { env: { KIND_EXPERIMENTAL_PROVIDER: 'podman' } } : {}),
    },
  ];
}
