/**
 * Config changes roll out: every long-running pod template that reads a ConfigMap carries
 * `checksum/config` = the hash of those ConfigMaps (tools/k8s/config-hash.ts), so changing one
 * changes the template and `kubectl apply` (either path) starts a rollout.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { CONFIG_HASH_ANNOTATION, expectedHash, main, staleFiles } from '../config-hash.js';
import { field, find, podTemplates, ref } from '../verify/objects.js';
import { createWorkspace, renderedPlatform, renderDeployment } from '../verify/render.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

describe('config changes roll out (checksum/config)', kubectl, () => {
  const ws = createWorkspace();
  after(() => ws.cleanup());

  it('every Deployment and StatefulSet reading a ConfigMap carries the hash of its ConfigMaps', () => {
    const { objects } = renderedPlatform();
    const problems: string[] = [];
    let checked = 0;
    for (const t of podTemplates(objects)) {
      const want = expectedHash(objects, t.owner);
      if (want === undefined) continue;
      checked++;
      if (t.annotations[CONFIG_HASH_ANNOTATION] !== want)
        problems.push(`${ref(t.owner)}: ${CONFIG_HASH_ANNOTATION} is ${t.annotations[CONFIG_HASH_ANNOTATION] ?? 'missing'} (run npm run k8s:config-hash)`);
    }
    assert.deepEqual(problems, []);
    // Not vacuous: the services, PostgreSQL, Prometheus, Alertmanager and Grafana read ConfigMaps.
    assert.ok(checked >= 7, `only ${checked} workloads read a ConfigMap`);
  });

  it('the committed files are up to date (npm run k8s:config-hash -- --check)', () => {
    assert.deepEqual([...staleFiles(join(ws.root, 'k8s')).keys()], []);
  });

  it("a changed ConfigMap value changes its workload's pod template after k8s:config-hash, and only that one", () => {
    const before = renderDeployment(ws);
    const file = join(ws.k8s, 'deployments/auth-service.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('LOG_LEVEL: info', 'LOG_LEVEL: debug'));
    const log = console.log;
    const error = console.error;
    console.log = console.error = () => {};
    try {
      assert.equal(main(['--check'], ws.k8s), 1, '--check did not notice the stale annotation');
      assert.equal(main([], ws.k8s), 0);
      assert.equal(main(['--check'], ws.k8s), 0);
    } finally {
      console.log = log;
      console.error = error;
    }
    const afterwards = renderDeployment(ws);
    const hash = (objects: typeof before, name: string) =>
      field<Record<string, string>>(find(objects, 'Deployment', 'app', name), 'spec', 'template', 'metadata', 'annotations')?.[CONFIG_HASH_ANNOTATION];
    assert.notEqual(hash(afterwards, 'auth-service'), hash(before, 'auth-service'));
    assert.equal(hash(afterwards, 'api-service'), hash(before, 'api-service'));
  });

  it('Jobs carry no hash: their pod template is immutable and they read config at every run', () => {
    const { objects } = renderedPlatform();
    const job = find(objects, 'Job', 'app', 'minio-setup');
    assert.ok(job);
    assert.equal(field(job, 'spec', 'template', 'metadata', 'annotations', CONFIG_HASH_ANNOTATION), undefined);
  });
});
