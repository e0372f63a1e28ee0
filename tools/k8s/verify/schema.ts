/**
 * Validates objects against the Kubernetes OpenAPI schema through kubernetes-models (one generated
 * validator per apiVersion/kind). Objects of a kind it does not know are reported, not skipped.
 */
import type { K8sObject } from './objects.js';
import { ref } from './objects.js';

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const cache = new Map<string, ModelClass | null>();

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const id = `${apiVersion}/${kind}`;
  if (!cache.has(id)) {
    // "v1" is the core group (kubernetes-models/v1/Kind); others are "<group>/<version>".
    const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
    try {
      const mod = (await import(modulePath)) as Record<string, ModelClass>;
      cache.set(id, mod[kind] ?? null);
    } catch {
      cache.set(id, null);
    }
  }
  return cache.get(id)!;
}

/** Problems found, one line per object (empty when all are valid). */
export async function validateObjects(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) {
      problems.push(`${ref(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${ref(o)}: ${(err as Error).message}`);
    }
  }
  return problems;
}
