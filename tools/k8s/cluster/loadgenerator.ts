/**
 * cluster:up --with-loadgenerator: the opt-in load generator (k8s/components/loadgenerator) built,
 * loaded and applied with the local image, at 0 replicas. The load-spike drill
 * (tools/drills/src/targets/kubernetes.ts) scales it up and back to 0 itself, so the platform
 * comes up without load.
 */
import { join } from 'node:path';
import type { ClusterOptions, Step } from './types.js';

export const LOADGENERATOR = {
  image: 'loadgenerator',
  dockerfile: 'tools/load/Dockerfile',
  /** The image the component's Deployment names (k8s/components/loadgenerator/deployment.yaml). */
  committedImage: 'ghcr.io/OWNER/loadgenerator',
  component: 'k8s/components/loadgenerator',
} as const;

/**
 * A Kustomization beside the copied manifests that renders only the component: kustomize's own
 * image and replica transformers instead of editing its YAML, so the component stays as committed.
 */
export function loadGeneratorKustomization(ref: string): string {
  const at = ref.lastIndexOf(':');
  return `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
components:
  - ../k8s/components/loadgenerator
images:
  - name: ${LOADGENERATOR.committedImage}
    newName: ${ref.slice(0, at)}
    newTag: "${ref.slice(at + 1)}"
replicas:
  - name: loadgenerator
    count: 0
`;
}

/** After the platform is up (its api-service is what the NetworkPolicies admit it to). */
export function applyLoadGenerator(o: ClusterOptions, ref: string, k: (...args: string[]) => string[]): Step[] {
  const dir = join(o.workDir, 'loadgenerator');
  return [
    {
      title: `write a Kustomization of ${LOADGENERATOR.component} with the image ${ref} and 0 replicas`,
      write: { path: join(dir, 'kustomization.yaml'), content: loadGeneratorKustomization(ref) },
    },
    { title: `apply ${LOADGENERATOR.component} (deployment/loadgenerator at 0 replicas: the load-spike drill scales it)`, argv: k('apply', '-k', dir) },
  ];
}
