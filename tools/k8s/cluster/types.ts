// The plan's vocabulary, apart from plan.ts so the step builders (loadgenerator.ts) import it one way.

export type Provider = 'kind' | 'k3d' | 'minikube';
export type Engine = 'docker' | 'podman';

export interface ClusterOptions {
  /** Create a local cluster with this tool, or use an existing kubectl context (`context`). */
  readonly provider: Provider;
  readonly context?: string | undefined;
  readonly name: string;
  readonly engine: Engine;
  readonly repoRoot: string;
  /** Scratch directory: kind config, image archive, the manifests with local image names. */
  readonly workDir: string;
  /** Already-pushed images (`REGISTRY/OWNER:TAG`) instead of building and loading them. */
  readonly images?: { readonly repository: string; readonly tag: string } | undefined;
  /** Also build, load and apply k8s/components/loadgenerator (at 0 replicas) for the load-spike drill. */
  readonly withLoadGenerator?: boolean | undefined;
  /** Also apply k8s/components/tracing (OpenTelemetry Collector, Jaeger, the services exporting traces). */
  readonly withTracing?: boolean | undefined;
}

export interface Step {
  readonly title: string;
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Skipped when this command succeeds (and, if given, its output matches). */
  readonly unless?: { readonly argv: readonly string[]; readonly stdoutMatches?: RegExp };
  readonly write?: { readonly path: string; readonly content: string };
  /** Copy k8s/ to `to`, naming the images `images` (old reference → new) in the Deployments. */
  readonly copyManifests?: { readonly to: string; readonly images: Readonly<Record<string, string>> };
  /** After this step the cluster exists and was made by this run: a later failure deletes it. */
  readonly createsCluster?: boolean;
}
