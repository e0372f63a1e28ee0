/**
 * `npm run k8s:config-hash`: config changes roll out. Every pod template that reads a ConfigMap
 * (envFrom, configMapKeyRef, a configMap or projected volume) carries the annotation
 * `checksum/config`: a SHA-256 of the data of those ConfigMaps. Changing a ConfigMap and running this
 * command changes the annotation, so `kubectl apply` changes the pod template and the workload rolls
 * out, through the per-folder `kubectl apply -f` commands and `kubectl apply -k` alike (a kustomize
 * configMapGenerator would give the -k path only). tools/k8s/test/config-rollout.test.ts fails while
 * an annotation is stale. Why this and not a reloader: docs/deploy.md#config-changes-roll-out.
 *
 *   npm run k8s:config-hash               rewrite the annotations in k8s/
 *   npm run k8s:config-hash -- --check    exit 1 naming the files whose annotations are stale
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, parseAllDocuments, type Document } from 'yaml';
import { field, WORKLOAD_TEMPLATE_PATHS, type IPodSpec, type K8sObject } from './verify/objects.js';
import { filesOfApplyPath, parseManifests, SEED_APPLY_PATHS } from './verify/render.js';
import { REPO_ROOT } from './secrets.js';

export const CONFIG_HASH_ANNOTATION = 'checksum/config';

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** The ConfigMaps a pod spec reads, by name (same namespace), sorted. */
export function configMapsUsed(spec: IPodSpec): string[] {
  const names = new Set<string>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const from of c.envFrom ?? []) if (from.configMapRef?.name) names.add(from.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) names.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of spec.volumes ?? []) {
    if (v.configMap?.name) names.add(v.configMap.name);
    for (const source of v.projected?.sources ?? []) if (source.configMap?.name) names.add(source.configMap.name);
  }
  return [...names].sort();
}

const sorted = (o: unknown) => Object.entries((o ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b));

/** SHA-256 over the names and data of the ConfigMaps `names` in `namespace` (missing ones count as absent). */
export function configHash(objects: readonly K8sObject[], namespace: string, names: readonly string[]): string {
  const content = names.map((name) => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name && (o.metadata.namespace ?? 'default') === namespace);
    return [name, cm ? [sorted(cm.data), sorted(cm.binaryData)] : null];
  });
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** The annotation each pod template should carry (undefined: it reads no ConfigMap). */
export function expectedHash(objects: readonly K8sObject[], workload: K8sObject): string | undefined {
  // Jobs and CronJobs read their ConfigMaps afresh at every run, and a Job's pod template is
  // immutable: an annotation there would make `kubectl apply` fail instead of rolling anything out.
  if (!LONG_RUNNING.has(workload.kind)) return undefined;
  const path = WORKLOAD_TEMPLATE_PATHS[workload.kind];
  const spec = path ? field<IPodSpec>(workload, ...path, 'spec') : undefined;
  if (!spec) return undefined;
  const names = configMapsUsed(spec);
  return names.length > 0 ? configHash(objects, workload.metadata.namespace ?? 'default', names) : undefined;
}

/** The manifest files the annotations live in: what the per-folder commands apply, minus the Secrets. */
export function manifestFiles(k8sDir: string): string[] {
  return SEED_APPLY_PATHS.filter((p) => p !== 'secrets.yaml').flatMap((p) => filesOfApplyPath(join(k8sDir, p)));
}

/** Every file of `k8sDir` whose annotations differ from their ConfigMaps, with its corrected text. */
export function staleFiles(k8sDir: string): Map<string, string> {
  const files = manifestFiles(k8sDir);
  const objects = files.flatMap((f) => parseManifests(readFileSync(f, 'utf8'), f));
  const stale = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const docs = parseAllDocuments(text, { version: '1.1' });
    let changed = false;
    for (const doc of docs) {
      if (Array.isArray(doc)) continue;
      changed = setAnnotation(doc as Document, objects) || changed;
    }
    // Same options as the files are written with, so an untouched document round-trips byte for byte.
    if (changed) stale.set(file, docs.map((d) => (d as Document).toString({ lineWidth: 0, flowCollectionPadding: false })).join(''));
  }
  return stale;
}

function setAnnotation(doc: Document, objects: readonly K8sObject[]): boolean {
  const workload = doc.toJS() as K8sObject | null;
  const path = workload ? WORKLOAD_TEMPLATE_PATHS[workload.kind] : undefined;
  if (!workload || !path) return false;
  const want = expectedHash(objects, workload);
  const annotations = [...path, 'metadata', 'annotations'];
  const have = field<Record<string, string>>(workload, ...annotations)?.[CONFIG_HASH_ANNOTATION];
  if (have === want) return false;
  if (want === undefined) doc.deleteIn([...annotations, CONFIG_HASH_ANNOTATION]);
  else if (isMap(doc.getIn(annotations))) doc.setIn([...annotations, CONFIG_HASH_ANNOTATION], want);
  else doc.setIn(annotations, doc.createNode({ [CONFIG_HASH_ANNOTATION]: want }));
  return true;
}

export function main(argv: readonly string[], k8sDir = join(REPO_ROOT, 'k8s')): number {
  const check = argv.includes('--check');
  const stale = staleFiles(k8sDir);
  for (const [file, text] of stale) {
    if (check) console.error(`k8s:config-hash: stale ${CONFIG_HASH_ANNOTATION} in ${relative(REPO_ROOT, file)}`);
    else {
      writeFileSync(file, text);
      console.log(`k8s:config-hash: updated ${relative(REPO_ROOT, file)}`);
    }
  }
  if (check && stale.size > 0) {
    console.error('k8s:config-hash: run `npm run k8s:config-hash` (after `npm run monitoring:generate` if monitoring/ changed)');
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
