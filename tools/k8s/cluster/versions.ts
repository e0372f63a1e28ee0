/** The pinned third-party versions of tools/k8s/cluster/versions.json, and the manifest URLs built from them. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Versions {
  kind: { version: string; nodeImage: string };
  k3d: { version: string; k3sImage: string };
  minikube: { version: string; kubernetesVersion: string };
  calico: { version: string };
  ingressNginx: { version: string };
  metricsServer: { version: string };
  localPathProvisioner: { version: string };
  /** The CI jobs' kubectl (Debian has no package; GitHub's runners bring their own). */
  kubectl: { version: string };
}

export const VERSIONS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'versions.json');

export function loadVersions(): Versions {
  return JSON.parse(readFileSync(VERSIONS_FILE, 'utf8')) as Versions;
}

/** Upstream install manifests, each at its pinned release (never a moving branch). */
export function manifestUrls(v: Versions) {
  const ingress = `https://raw.githubusercontent.com/kubernetes/ingress-nginx/${v.ingressNginx.version}/deploy/static/provider`;
  return {
    calico: `https://raw.githubusercontent.com/projectcalico/calico/${v.calico.version}/manifests/calico.yaml`,
    // kind: hostPort 80/443 on the node labelled ingress-ready (the kind config maps them to localhost).
    ingressNginxKind: `${ingress}/kind/deploy.yaml`,
    // k3d and existing clusters: a LoadBalancer Service (k3s' servicelb, or the cloud's).
    ingressNginxCloud: `${ingress}/cloud/deploy.yaml`,
    metricsServer: `https://github.com/kubernetes-sigs/metrics-server/releases/download/${v.metricsServer.version}/components.yaml`,
    localPathProvisioner: `https://raw.githubusercontent.com/rancher/local-path-provisioner/${v.localPathProvisioner.version}/deploy/local-path-storage.yaml`,
  };
}
