/**
 * npm run cluster:up   [-- --provider kind|k3d|minikube] [--context NAME] [--name sre] [--engine docker|podman]
 *                      [--images REGISTRY/OWNER:TAG] [--with-loadgenerator] [--with-tracing] [--keep-on-failure] [--dry-run]
 * npm run cluster:down [-- same selection flags] [--dry-run]
 *
 * One command from a clone to the platform on a local Kubernetes cluster (docs/deploy.md): the cluster
 * (kind by default), Calico, ingress-nginx, metrics-server, a default StorageClass, the three images
 * built and loaded without a registry, secrets, the manifests in the seed's order, and a wait for every
 * rollout; --with-loadgenerator adds the load generator (k8s/components/loadgenerator) at 0 replicas,
 * --with-tracing the tracing component (k8s/components/tracing). --dry-run prints every command and
 * runs none. When a step fails, a cluster this run created
 * is deleted again (unless --keep-on-failure).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../secrets.js';
import { kubeContext, planDown, planUp, type ClusterOptions, type Engine, type Provider, type Step } from './plan.js';
import { missingTools, type Which } from './prerequisites.js';
import { loadVersions } from './versions.js';

const USAGE = `usage: npm run cluster:up|cluster:down -- [--provider kind|k3d|minikube] [--context NAME] [--name sre]
         [--engine docker|podman] [--images REGISTRY/OWNER:TAG] [--with-loadgenerator] [--with-tracing] [--keep-on-failure] [--dry-run]   (docs/deploy.md)`;

export interface Cli {
  readonly command: 'up' | 'down';
  readonly options: ClusterOptions;
  readonly dryRun: boolean;
  readonly keepOnFailure: boolean;
  readonly engineGiven: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], workDir: string): Cli {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down') throw new UsageError('the first argument is up or down');
  let provider: Provider = 'kind';
  let context: string | undefined;
  let name = 'sre';
  let engine: Engine | undefined;
  let images: ClusterOptions['images'];
  let dryRun = false;
  let keepOnFailure = false;
  let withLoadGenerator = false;
  let withTracing = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--provider') {
      const p = value();
      if (p !== 'kind' && p !== 'k3d' && p !== 'minikube') throw new UsageError(`unknown provider ${p} (kind, k3d or minikube)`);
      provider = p;
    } else if (arg === '--context') context = value();
    else if (arg === '--name') {
      name = value();
      if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) throw new UsageError(`--name ${name}: lower-case letters, digits and '-'`);
    } else if (arg === '--engine') {
      const e = value();
      if (e !== 'docker' && e !== 'podman') throw new UsageError(`unknown engine ${e} (docker or podman)`);
      engine = e;
    } else if (arg === '--images') {
      const m = /^([a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(value());
      if (!m || m[2] === 'latest') throw new UsageError('--images REGISTRY/OWNER:TAG, e.g. ghcr.io/my-org:0.2.0 (a pinned tag, not latest)');
      images = { repository: m[1]!, tag: m[2]! };
    } else if (arg === '--dry-run') dryRun = true;
    else if (arg === '--keep-on-failure') keepOnFailure = true;
    else if (arg === '--with-loadgenerator') withLoadGenerator = true;
    else if (arg === '--with-tracing') withTracing = true;
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (context && rest.includes('--provider')) throw new UsageError('--context uses an existing cluster: --provider does not apply');
  if (context && !images && context !== 'docker-desktop' && command === 'up') {
    throw new UsageError(
      `an existing cluster (${context}) cannot see locally built images: push them (tools/k8s/build-push.sh OWNER TAG) and pass --images ghcr.io/OWNER:TAG`,
    );
  }
  return {
    command,
    dryRun,
    keepOnFailure,
    engineGiven: engine !== undefined,
    options: { provider, context, name, engine: engine ?? 'docker', repoRoot: REPO_ROOT, workDir, images, withLoadGenerator, withTracing },
  };
}

const which: Which = (tool) => spawnSync('sh', ['-c', `command -v "${tool}"`], { stdio: 'ignore' }).status === 0;

export function describe(step: Step): string {
  if (step.write) return `write ${step.write.path}:\n${step.write.content.replace(/^/gm, '    | ')}`;
  if (step.copyManifests)
    return `copy k8s/ to ${step.copyManifests.to}; in deployments/*.yaml and jobs/*.yaml set ${Object.entries(step.copyManifests.images)
      .map(([from, to]) => `${from} → ${to}`)
      .join(', ')}`;
  const env = Object.entries(step.env ?? {})
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  const unless = step.unless
    ? `   (skipped when \`${step.unless.argv.join(' ')}\`${step.unless.stdoutMatches ? ` prints ${step.unless.stdoutMatches}` : ' succeeds'})`
    : '';
  return `${env}${step.argv!.map(quote).join(' ')}${unless}`;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

function copyManifests(repoRoot: string, to: string, images: Readonly<Record<string, string>>): void {
  rmSync(to, { recursive: true, force: true });
  // Never the developer's secrets or certificates: those are applied from k8s/ itself.
  cpSync(join(repoRoot, 'k8s'), to, { recursive: true, filter: (src) => !src.endsWith('/k8s/secrets.yaml') && !src.includes('/k8s/tls') });
  // The Deployments and the Jobs/CronJobs that run the same images (jobs/images-reconcile.yaml).
  const files = ['deployments', 'jobs'].flatMap((dir) => (existsSync(join(to, dir)) ? readdirSync(join(to, dir)).map((f) => join(to, dir, f)) : []));
  for (const path of files) {
    let text = readFileSync(path, 'utf8');
    for (const [name, ref] of Object.entries(images)) text = text.replace(new RegExp(`image: \\S+/${name}:\\S+`, 'g'), `image: ${ref}`);
    writeFileSync(path, text);
  }
}

/** Runs a step. */
function execute(step: Step, repoRoot: string): 'ran' | 'skipped' | 'failed' {
  if (step.write) {
    mkdirSync(dirname(step.write.path), { recursive: true });
    writeFileSync(step.write.path, step.write.content);
    return 'ran';
  }
  if (step.copyManifests) {
    copyManifests(repoRoot, step.copyManifests.to, step.copyManifests.images);
    return 'ran';
  }
  const env = { ...process.env, ...step.env };
  if (step.unless) {
    const check = spawnSync(step.unless.argv[0]!, step.unless.argv.slice(1), { cwd: repoRoot, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (check.status === 0 && (!step.unless.stdoutMatches || step.unless.stdoutMatches.test(check.stdout))) {
      console.log('    already there: skipped');
      return 'skipped';
    }
  }
  const result = spawnSync(step.argv![0]!, step.argv!.slice(1), { cwd: repoRoot, env, stdio: 'inherit' });
  return result.status === 0 ? 'ran' : 'failed';
}

export function main(argv: readonly string[]): number {
  const workDir = mkdtempSync(join(tmpdir(), 'sre-cluster-'));
  try {
    let cli: Cli;
    try {
      cli = parseArgs(argv, workDir);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`cluster: ${err.message}\n${USAGE}`);
      return 2;
    }
    const options = cli.engineGiven || cli.dryRun || which('docker') ? cli.options : { ...cli.options, engine: 'podman' as const };
    const versions = loadVersions();
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const steps = cli.command === 'up' ? planUp(options, versions, version) : planDown(options);
    const tag = `cluster:${cli.command}`;
    if (cli.dryRun) {
      console.log(`${tag}: dry run — ${steps.length} steps, nothing is run (context ${kubeContext(options)})`);
      steps.forEach((s, i) => console.log(`[${i + 1}/${steps.length}] ${s.title}\n    $ ${describe(s).replace(/\n/g, '\n    ')}`));
      return 0;
    }
    const missing = missingTools(steps, which);
    if (missing.length > 0) {
      console.error(`${tag}: missing prerequisites; install them and run again:\n${missing.map((m) => `  - ${m.tool}: ${m.install}`).join('\n')}`);
      return 1;
    }
    mkdirSync(workDir, { recursive: true });
    let created = false;
    for (const [i, step] of steps.entries()) {
      console.log(`${tag} [${i + 1}/${steps.length}] ${step.title}`);
      const outcome = execute(step, REPO_ROOT);
      // Only a cluster this run made is deleted on failure; an existing one is never touched.
      if (outcome === 'ran' && step.createsCluster) created = true;
      if (outcome !== 'failed') continue;
      console.error(`${tag}: step ${i + 1} failed: ${step.title}`);
      if (created && !cli.keepOnFailure) {
        console.error(`${tag}: deleting the cluster this run created (--keep-on-failure keeps it for debugging)`);
        for (const s of planDown(options)) execute(s, REPO_ROOT);
      }
      return 1;
    }
    if (cli.command === 'up') printWhereTo(options);
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function printWhereTo(o: ClusterOptions): void {
  const ctx = kubeContext(o);
  console.log(`cluster:up: done (kubectl context ${ctx})
  app           https://localhost/   (self-signed certificate${o.provider === 'minikube' && !o.context ? `; keep \`minikube -p ${o.name} tunnel\` running` : ''})
  Grafana       http://localhost:3000   user admin, password: kubectl --context ${ctx} -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d
  Prometheus    http://localhost:9090
  Alertmanager  http://localhost:9093
${o.withTracing ? '  Jaeger        http://localhost:16686\n' : ''}  Grafana, Prometheus and Alertmanager${o.withTracing ? ' and Jaeger' : ''} are reached through port-forwards: run \`npm run cluster:forward -- --context ${ctx}${o.withTracing ? ' --with-tracing' : ''}\` and keep it running.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
