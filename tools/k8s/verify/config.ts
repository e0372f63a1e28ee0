/**
 * Config consistency between a service's own schema (services/<dir>/src/config.ts, `configSchema`)
 * and the Deployment that runs it: the schema is read, never a copied list of variable names.
 */
import type { z } from '@sre/platform';
import { field, find, podTemplates, resolveEnv, type IContainer, type K8sObject, type PodTemplate } from './objects.js';

/** What the suite needs of a service's schema: a zod object (its shape lists every variable). */
export type ServiceSchema = z.ZodType & { shape: Record<string, z.ZodType> };

export interface ServiceUnderTest {
  /** Deployment (and container) name in namespace app. */
  readonly deployment: string;
  readonly schema: ServiceSchema;
  /**
   * Optional variables a cluster must still set, with the reason: their defaults serve one
   * machine (embedded PGlite, local files), not a pod.
   */
  readonly clusterMustSet: Readonly<Record<string, string>>;
}

export function requiredKeys(schema: ServiceSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, s]) => !s.safeParse(undefined).success)
    .map(([k]) => k);
}

/** Keys whose default points at this machine (loopback): fine for `npm start`, wrong in a pod. */
export function loopbackDefaults(schema: ServiceSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, s]) => {
      const parsed = s.safeParse(undefined);
      return parsed.success && typeof parsed.data === 'string' && /\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/.test(parsed.data);
    })
    .map(([k]) => k);
}

/** Names the container's environment declares (envFrom ConfigMap keys and env entries). */
export function declaredNames(objects: readonly K8sObject[], namespace: string, c: IContainer): string[] {
  const names = new Set<string>();
  for (const source of c.envFrom ?? []) {
    const name = source.configMapRef?.name ?? source.secretRef?.name;
    const o = name ? find(objects, source.configMapRef ? 'ConfigMap' : 'Secret', namespace, name) : undefined;
    for (const k of Object.keys({ ...((o?.data ?? {}) as object), ...((o?.stringData ?? {}) as object) })) names.add((source.prefix ?? '') + k);
  }
  for (const e of c.env ?? []) names.add(e.name);
  return [...names];
}

function serviceTemplate(objects: readonly K8sObject[], deployment: string): { t: PodTemplate; c: IContainer } | undefined {
  const t = podTemplates(objects).find((x) => x.owner.kind === 'Deployment' && x.id === `app/${deployment}`);
  const c = t?.spec.containers.find((x) => x.name === deployment);
  return t && c ? { t, c } : undefined;
}

/** Every disagreement between the Deployment and the schema, one line each. */
export function checkServiceConfig(objects: readonly K8sObject[], service: ServiceUnderTest): string[] {
  const found = serviceTemplate(objects, service.deployment);
  if (!found) return [`Deployment app/${service.deployment} with a container of that name is not rendered`];
  const { t, c } = found;
  const where = `${service.deployment}`;
  const { problems, config } = environmentProblems(objects, t, c, where, service);
  if (!config) return problems;

  // Ports: the schema's PORT/MANAGEMENT_PORT are what the container declares and the probes use.
  const ports = c.ports ?? [];
  const portOf = (name: string) => ports.find((p) => p.name === name)?.containerPort;
  if (portOf('http') !== config.PORT) problems.push(`${where}: container port "http" is ${portOf('http')}, the service listens on PORT ${String(config.PORT)}`);
  if (portOf('management') !== config.MANAGEMENT_PORT) {
    problems.push(
      `${where}: container port "management" is ${portOf('management')}, the service serves /livez, /readyz, /metrics on MANAGEMENT_PORT ${String(config.MANAGEMENT_PORT)}`,
    );
  }
  const expectProbe = (kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe', path: string) => {
    const probe = c[kind];
    const port = probe?.httpGet?.port;
    const portNumber = typeof port === 'string' ? portOf(port) : port;
    if (probe?.httpGet?.path !== path || portNumber !== config.MANAGEMENT_PORT) {
      problems.push(
        `${where}: ${kind} must be GET ${path} on the management port (${String(config.MANAGEMENT_PORT)}), is ${JSON.stringify(probe?.httpGet ?? probe)}`,
      );
    }
  };
  expectProbe('startupProbe', '/livez');
  expectProbe('readinessProbe', '/readyz');
  // Liveness never depends on the database (/livez checks nothing outside the process).
  expectProbe('livenessProbe', '/livez');

  problems.push(...urlProblems(objects, t.namespace, where, config));
  return problems;
}

/**
 * A run-to-completion workload (Job or CronJob) that runs a service's own command (the Images
 * reconcile) with the service's config schema: the same environment checks as the Deployment's,
 * without ports and probes (it serves nothing).
 */
export interface CommandUnderTest {
  readonly kind: 'Job' | 'CronJob';
  readonly name: string;
  readonly schema: ServiceSchema;
  readonly clusterMustSet: Readonly<Record<string, string>>;
}

export function checkCommandConfig(objects: readonly K8sObject[], command: CommandUnderTest): string[] {
  const t = podTemplates(objects).find((x) => x.owner.kind === command.kind && x.id === `app/${command.name}`);
  const c = t?.spec.containers.find((x) => x.name === command.name);
  if (!t || !c) return [`${command.kind} app/${command.name} with a container of that name is not rendered`];
  const where = `${command.name}`;
  const { problems, config } = environmentProblems(objects, t, c, where, command);
  if (config) problems.push(...urlProblems(objects, t.namespace, where, config));
  return problems;
}

function environmentProblems(
  objects: readonly K8sObject[],
  t: PodTemplate,
  c: IContainer,
  where: string,
  service: { schema: ServiceSchema; clusterMustSet: Readonly<Record<string, string>> },
): { problems: string[]; config?: Record<string, unknown> } {
  const problems: string[] = [];
  const schemaKeys = new Set(Object.keys(service.schema.shape));
  const declared = declaredNames(objects, t.namespace, c);

  for (const k of requiredKeys(service.schema)) if (!declared.includes(k)) problems.push(`${where}: required ${k} is not provided by the ${t.owner.kind}`);
  for (const k of declared) if (!schemaKeys.has(k)) problems.push(`${where}: provides ${k}, which the service's config schema does not know`);
  for (const k of loopbackDefaults(service.schema))
    if (!declared.includes(k)) problems.push(`${where}: ${k} keeps its loopback default, which is wrong inside a pod`);
  for (const [k, why] of Object.entries(service.clusterMustSet)) if (!declared.includes(k)) problems.push(`${where}: ${k} is not set (${why})`);

  const { env, problems: refProblems } = resolveEnv(objects, t.namespace, c);
  problems.push(...refProblems.map((p) => `${where}: ${p}`));
  const parsed = service.schema.safeParse(env);
  if (!parsed.success) {
    // Names and rules only: values may be secrets.
    for (const issue of parsed.error.issues) problems.push(`${where}: ${issue.path.join('.') || '(config)'} ${issue.message}`);
    return { problems };
  }
  return { problems, config: parsed.data as Record<string, unknown> };
}

/** URLs the service will call must name a Service of the namespace and one of its ports. */
function urlProblems(objects: readonly K8sObject[], namespace: string, where: string, config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (typeof v !== 'string') continue;
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      continue;
    }
    const defaultPort = { 'http:': 80, 'https:': 443, 'postgres:': 5432, 'postgresql:': 5432 }[url.protocol];
    if (defaultPort === undefined) continue;
    const [host, ns = namespace] = url.hostname.split('.');
    const svc = find(objects, 'Service', ns, host ?? '');
    if (!svc) {
      problems.push(`${where}: ${k} points at host ${url.hostname}, which is no Service of the manifests`);
      continue;
    }
    const port = url.port === '' ? defaultPort : Number(url.port);
    if (!(field<{ port: number }[]>(svc, 'spec', 'ports') ?? []).some((p) => p.port === port)) {
      problems.push(`${where}: ${k} uses port ${port}, which Service ${url.hostname} does not expose`);
    }
  }
  return problems;
}

/** Shutdown settings as the service will see them, for the grace-period check. */
export function shutdownSettings(
  objects: readonly K8sObject[],
  service: ServiceUnderTest,
): { drainMs: number; timeoutMs: number; graceMs: number } | undefined {
  const found = serviceTemplate(objects, service.deployment);
  if (!found) return undefined;
  const parsed = service.schema.safeParse(resolveEnv(objects, found.t.namespace, found.c).env);
  if (!parsed.success) return undefined;
  const config = parsed.data as { DRAIN_DELAY_MS: number; SHUTDOWN_TIMEOUT_MS: number };
  return { drainMs: config.DRAIN_DELAY_MS, timeoutMs: config.SHUTDOWN_TIMEOUT_MS, graceMs: (found.t.spec.terminationGracePeriodSeconds ?? 30) * 1000 };
}
