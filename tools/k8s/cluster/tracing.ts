/**
 * cluster:up --with-tracing: the opt-in tracing component (k8s/components/tracing) applied once the
 * platform is up. The component patches objects of k8s/ (the services' environment, Prometheus'
 * flags, Grafana's datasources), so its Kustomization renders the copied manifests with the
 * component, as `kubectl apply -k tools/k8s/overlays/tracing` does; re-applying the unchanged objects
 * is a no-op. Then it waits for the workloads the component adds or rolls out again.
 */
import { join } from 'node:path';
import type { ClusterOptions, Step } from './types.js';

export const TRACING = {
  component: 'k8s/components/tracing',
  /** What the component adds (namespace/kind/name) and what its patches roll out again. */
  workloads: [
    'monitoring/deployment/otel-collector',
    'monitoring/deployment/jaeger',
    'monitoring/statefulset/prometheus',
    'monitoring/deployment/grafana',
    'app/deployment/api-service',
    'app/deployment/auth-service',
    'app/deployment/images-service',
  ],
} as const;

/** Beside the copied manifests (`<workDir>/k8s`, already naming the local images). */
export function tracingKustomization(): string {
  return `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../k8s
components:
  - ../k8s/components/tracing
`;
}

export function applyTracing(o: ClusterOptions, k: (...args: string[]) => string[]): Step[] {
  const dir = join(o.workDir, 'tracing');
  return [
    {
      title: `write a Kustomization of the platform with ${TRACING.component}`,
      write: { path: join(dir, 'kustomization.yaml'), content: tracingKustomization() },
    },
    { title: `apply the platform with ${TRACING.component} (OpenTelemetry Collector, Jaeger, the services exporting traces)`, argv: k('apply', '-k', dir) },
    ...TRACING.workloads.map((w): Step => {
      const [namespace, kind, name] = w.split('/') as [string, string, string];
      return { title: `wait for ${kind} ${namespace}/${name}`, argv: k('-n', namespace, 'rollout', 'status', `${kind}/${name}`, '--timeout=600s') };
    }),
  ];
}
