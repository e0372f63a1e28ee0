/**
 * Renders the manifests the way users apply them, without a cluster:
 * - `renderKustomize(dir)`: `kubectl kustomize` (what `kubectl apply -k` sends);
 * - `readSeedFiles(...)`: the objects of the per-folder `kubectl apply -f` commands.
 * Both work on a scratch copy of the repository's k8s/ (plus monitoring/ and tools/k8s/overlays/,
 * which manifests may refer to) that has a freshly generated secrets.yaml, so the working tree is
 * never touched and no real secret is read.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generateSecrets, renderSecretsYaml, REPO_ROOT, type SecretManifest } from '../secrets.js';
import type { K8sObject } from './objects.js';

export interface Workspace {
  /** Root of the scratch copy; `${root}/k8s` mirrors the repository's k8s/. */
  readonly root: string;
  readonly k8s: string;
  readonly secrets: readonly SecretManifest[];
  cleanup(): void;
}

/** Paths (relative to the repository) copied into the scratch tree. */
const COPIED = ['k8s', 'monitoring', 'tools/k8s/overlays'];

export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'sre-k8s-'));
  for (const rel of COPIED) {
    const from = join(REPO_ROOT, rel);
    if (!existsSync(from)) continue;
    cpSync(from, join(root, rel), {
      recursive: true,
      // Never copy a developer's real secrets or certificates.
      filter: (src) => !src.endsWith('/k8s/secrets.yaml') && !src.includes('/k8s/tls') && !src.includes('node_modules'),
    });
  }
  const secrets = generateSecrets({ slackWebhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX' });
  writeFileSync(join(root, 'k8s/secrets.yaml'), renderSecretsYaml(secrets), { mode: 0o600 });
  return { root, k8s: join(root, 'k8s'), secrets, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  // YAML 1.1, as kubectl and kustomize read it (0555 is octal there, decimal in YAML 1.2).
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value === null || value === undefined) continue;
    // kubectl accepts v1 List objects and applies their items.
    if (value.kind === 'List' && Array.isArray((value as { items?: unknown }).items)) {
      objects.push(...(value as unknown as { items: K8sObject[] }).items);
    } else {
      objects.push(value);
    }
  }
  return objects;
}

export function renderKustomize(dir: string, options: { loadRestrictorNone?: boolean } = {}): K8sObject[] {
  const args = ['kustomize', ...(options.loadRestrictorNone ? ['--load-restrictor', 'LoadRestrictionsNone'] : []), dir];
  const out = execFileSync('kubectl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  return parseManifests(out, `kubectl kustomize ${dir}`);
}

/** The files `kubectl apply -f PATH` reads: a file, or a directory's .json/.yaml/.yml files (not recursive). */
export function filesOfApplyPath(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .filter((name) => ['.json', '.yaml', '.yml'].includes(extname(name)))
    .sort()
    .map((name) => join(path, name));
}

/**
 * The seed's deployment commands (docs/deploy.md), in order, relative to k8s/: the first seven are
 * the seed's own; pdb/, networkpolicies/, data/ and jobs/ complete the platform.
 */
export const SEED_APPLY_PATHS = [
  'namespaces.yaml',
  'secrets.yaml',
  'deployments/',
  'services/',
  'ingress.yaml',
  'hpa/',
  'monitoring/',
  'pdb/',
  'networkpolicies/',
  'data/',
  'jobs/',
] as const;

export function readSeedFiles(k8sDir: string, paths: readonly string[] = SEED_APPLY_PATHS): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const rel of paths) {
    for (const file of filesOfApplyPath(join(k8sDir, rel))) {
      const text = readFileSync(file, 'utf8');
      objects.push(...(extname(file) === '.json' ? [JSON.parse(text) as K8sObject] : parseManifests(text, file)));
    }
  }
  return objects;
}

let cached: { workspace: Workspace; objects: K8sObject[] } | undefined;

/**
 * What a deployment creates: `kubectl apply -f k8s/secrets.yaml` (the kustomization leaves the
 * Secrets out, so it renders before they exist) plus `kubectl apply -k k8s/`.
 */
export function renderDeployment(workspace: Workspace, kustomization: string = workspace.k8s): K8sObject[] {
  return [...parseManifests(readFileSync(join(workspace.k8s, 'secrets.yaml'), 'utf8'), 'secrets.yaml'), ...renderKustomize(kustomization)];
}

/** The rendered k8s/ with its Secrets (cached per test process); the workspace is removed at exit. */
export function renderedPlatform(): { workspace: Workspace; objects: K8sObject[] } {
  if (!cached) {
    const workspace = createWorkspace();
    process.once('exit', () => workspace.cleanup());
    cached = { workspace, objects: renderDeployment(workspace) };
  }
  return { workspace: cached.workspace, objects: structuredClone(cached.objects) };
}
