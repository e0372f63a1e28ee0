/**
 * `kubectl apply -f k8s/secrets.yaml && kubectl apply -k k8s/` and the per-folder `kubectl apply -f`
 * commands of docs/deploy.md must create the same objects; the kustomization renders before any
 * secret exists; every overlay renders.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { parse } from 'yaml';
import { key, type K8sObject } from '../verify/objects.js';
import { createWorkspace, filesOfApplyPath, readSeedFiles, renderDeployment, renderKustomize, SEED_APPLY_PATHS, type Workspace } from '../verify/render.js';
import { REPO_ROOT } from '../secrets.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

/** Objects keyed by apiVersion/kind/namespace/name, with content normalised for comparison. */
function byKey(objects: readonly K8sObject[]): Map<string, string> {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortKeys)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, sortKeys(x)]),
          )
        : v;
  const map = new Map<string, string>();
  for (const o of objects) {
    assert.ok(!map.has(key(o)), `${key(o)} is defined twice`);
    map.set(key(o), JSON.stringify(sortKeys(o)));
  }
  return map;
}

function compareSets(a: Map<string, string>, b: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const k of a.keys()) if (!b.has(k)) problems.push(`only in kubectl apply -k: ${k}`);
  for (const k of b.keys()) if (!a.has(k)) problems.push(`only in the per-folder commands: ${k}`);
  for (const [k, v] of a) if (b.has(k) && b.get(k) !== v) problems.push(`differs: ${k}`);
  return problems;
}

describe('rendering k8s/', kubectl, () => {
  let ws: Workspace;
  /** Differences of the unmodified tree: the mutation tests look only at what they add. */
  let baseline: string[];
  const newProblems = (problems: string[]) => problems.filter((p) => !baseline.includes(p));
  before(() => {
    ws = createWorkspace();
    baseline = compareSets(byKey(renderDeployment(ws)), byKey(readSeedFiles(ws.k8s)));
  });
  after(() => ws.cleanup());

  it('kubectl apply -f k8s/secrets.yaml + kubectl apply -k k8s/ create exactly the objects of the per-folder kubectl apply -f commands', () => {
    const viaKustomize = byKey(renderDeployment(ws));
    const viaFolders = byKey(readSeedFiles(ws.k8s));
    assert.deepEqual(compareSets(viaKustomize, viaFolders), []);
    // The comparison is not vacuous: the platform's main objects are there.
    for (const k of [
      'apps/v1/Deployment/app/api-service',
      'apps/v1/StatefulSet/app/postgres',
      'v1/Secret/app/app-secrets',
      'networking.k8s.io/v1/Ingress/app/api-service',
    ]) {
      assert.ok(viaKustomize.has(k), `${k} missing`);
    }
  });

  it('the comparison notices a file that kustomization.yaml does not list', () => {
    const extra = join(ws.k8s, 'deployments/zz-extra.yaml');
    writeFileSync(extra, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: app\ndata: {}\n');
    try {
      assert.deepEqual(newProblems(compareSets(byKey(renderDeployment(ws)), byKey(readSeedFiles(ws.k8s)))), [
        'only in the per-folder commands: v1/ConfigMap/app/extra',
      ]);
    } finally {
      rmSync(extra);
    }
  });

  it('the comparison notices an object that differs between the two paths', () => {
    const viaKustomize = renderDeployment(ws);
    const deployment = viaKustomize.find((o) => o.kind === 'Deployment')!;
    (deployment.spec as { minReadySeconds: number }).minReadySeconds = 7;
    assert.deepEqual(newProblems(compareSets(byKey(viaKustomize), byKey(readSeedFiles(ws.k8s)))), [`differs: ${key(deployment)}`]);
  });

  it('docs/deploy.md and README.md list exactly these per-folder commands, in this order', () => {
    // The per-folder path is what the docs tell people to run: a folder missing there (say k8s/jobs/)
    // would be applied by `kubectl apply -k` only, and the two paths would differ in a real cluster.
    const applied = (file: string) =>
      [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/^kubectl apply ((?:-f k8s\/\S+\s*)+)/gm)]
        .flatMap((m) => [...m[1]!.matchAll(/-f k8s\/(\S+)/g)].map((f) => f[1]!))
        .filter((p) => p !== 'tls/app-tls.yaml');
    const seedOrder = (paths: string[]) => paths.filter((p, i) => paths.indexOf(p) === i).slice(0, SEED_APPLY_PATHS.length);
    assert.deepEqual(seedOrder(applied('docs/deploy.md')), [...SEED_APPLY_PATHS]);
    assert.deepEqual(seedOrder(applied('README.md')), [...SEED_APPLY_PATHS]);
  });

  it('every manifest folder of k8s/ is on the per-folder path (components and overlays are opt-in)', () => {
    const optIn = new Set(['components', 'overlays', 'tls']);
    const folders = readdirSync(join(REPO_ROOT, 'k8s'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !optIn.has(e.name))
      .map((e) => `${e.name}/`);
    assert.deepEqual(
      folders.filter((f) => !(SEED_APPLY_PATHS as readonly string[]).includes(f)),
      [],
    );
  });

  it('no seed folder holds a kustomization.yaml (kubectl apply -f <folder>/ would try to apply it)', () => {
    for (const path of SEED_APPLY_PATHS) {
      for (const file of filesOfApplyPath(join(REPO_ROOT, 'k8s', path))) {
        const doc = parse(readFileSync(file, 'utf8').split(/^---$/m)[0] ?? '') as { kind?: string; apiVersion?: string } | null;
        assert.ok(
          doc === null || (doc.kind !== 'Kustomization' && doc.kind !== 'Component' && !String(doc.apiVersion ?? '').startsWith('kustomize.config')),
          `${file} is a kustomization`,
        );
        assert.ok(doc === null || (typeof doc.kind === 'string' && typeof doc.apiVersion === 'string'), `${file} is not a Kubernetes object`);
      }
    }
  });

  it('kubectl kustomize k8s/ works before k8s/secrets.yaml exists, and never holds a Secret', () => {
    const secrets = readFileSync(join(ws.k8s, 'secrets.yaml'));
    rmSync(join(ws.k8s, 'secrets.yaml'));
    try {
      const objects = renderKustomize(ws.k8s);
      assert.ok(
        objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'api-service'),
        'the platform did not render',
      );
      assert.deepEqual(objects.filter((o) => o.kind === 'Secret').map(key), []);
    } finally {
      writeFileSync(join(ws.k8s, 'secrets.yaml'), secrets);
    }
  });

  it('every overlay renders (tools/k8s/overlays/*, k8s/overlays/*)', () => {
    const overlays: string[] = [];
    for (const base of ['tools/k8s/overlays', 'k8s/overlays']) {
      const dir = join(ws.root, base);
      if (existsSync(dir)) for (const name of readdirSync(dir)) overlays.push(join(dir, name));
    }
    assert.ok(
      overlays.some((o) => o.endsWith('tools/k8s/overlays/chaos')),
      'the chaos overlay is missing',
    );
    for (const overlay of overlays) {
      // Test overlays under k8s/overlays/ list files of k8s/ one by one (k8s/ itself would be a
      // cycle), which needs the load restrictor off; user-facing overlays render as users run them.
      const objects = renderKustomize(overlay, { loadRestrictorNone: overlay.startsWith(join(ws.root, 'k8s/overlays')) });
      assert.ok(objects.length > 0, `${overlay} renders nothing`);
    }
  });
});
