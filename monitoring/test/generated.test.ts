import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { generatedFiles, linkedFiles } from '../lib/generate.js';
import { dashboardsDir, k8sMonitoringDir, prometheusConfigFile, repoRoot } from '../lib/paths.js';
import { run } from './helpers.js';

/**
 * Generated copies (dashboards JSON, k8s/monitoring ConfigMaps) are exactly what their sources give:
 * edit monitoring/ and run `npm run monitoring:generate`, never the copies.
 */
describe('generated files', () => {
  const files = generatedFiles();

  for (const [path, content] of files) {
    it(`${path} is up to date with its source`, () => {
      const full = join(repoRoot, path);
      assert.ok(existsSync(full), `${path} is missing: run npm run monitoring:generate`);
      assert.ok(readFileSync(full, 'utf8') === content, `${path} differs from its source: run npm run monitoring:generate (do not edit it by hand)`);
    });
  }

  // Runbook links in the hand-written rules and their promtool tests follow package.json `repository`
  // (or MONITORING_REPOSITORY_URL): a changed URL without a regeneration fails here.
  for (const [path, content] of linkedFiles()) {
    it(`${path} links the runbooks of this repository`, () => {
      assert.ok(readFileSync(join(repoRoot, path), 'utf8') === content, `${path} has runbook links to another repository: run npm run monitoring:generate`);
    });
  }

  it('every generated file says so, and no other file pretends to be generated', () => {
    for (const [path, content] of files) {
      if (path.endsWith('.json')) assert.match((JSON.parse(content) as { description: string }).description, /do not edit/);
      else assert.match(content, /^# Generated from monitoring\/[^\n]*(\n#[^\n]*)*do not edit/);
    }
    for (const f of readdirSync(dashboardsDir))
      assert.ok(files.has(`monitoring/grafana/dashboards/${f}`), `monitoring/grafana/dashboards/${f} is not generated: remove it`);
  });

  it('k8s/monitoring/Kustomization lists exactly the manifests of the folder', () => {
    const kustomization = parse(readFileSync(join(k8sMonitoringDir, 'Kustomization'), 'utf8')) as { resources: string[] };
    const yamlFiles = readdirSync(k8sMonitoringDir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    assert.deepEqual([...kustomization.resources].sort(), yamlFiles);
    assert.ok(!existsSync(join(k8sMonitoringDir, 'kustomization.yaml')), 'a kustomization.yaml would break `kubectl apply -f k8s/monitoring/`');
  });

  it('every manifest of k8s/monitoring is in namespace monitoring or cluster-scoped', () => {
    // Except Prometheus' pod-discovery grant, which is a Role in each namespace its pod discovery names.
    const config = parse(readFileSync(prometheusConfigFile, 'utf8')) as {
      scrape_configs: { kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[] }[];
    };
    const discovered = config.scrape_configs
      .flatMap((j) => j.kubernetes_sd_configs ?? [])
      .filter((c) => c.role === 'pod')
      .flatMap((c) => c.namespaces?.names ?? []);
    for (const f of readdirSync(k8sMonitoringDir).filter((x) => x.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(k8sMonitoringDir, f), 'utf8'))) {
        const o = doc.toJS() as { kind: string; metadata: { name: string; namespace?: string } };
        if (['ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) assert.equal(o.metadata.namespace, undefined);
        else if (['Role', 'RoleBinding'].includes(o.kind) && o.metadata.name === 'prometheus-discovery')
          assert.ok(discovered.includes(o.metadata.namespace ?? ''), `${f}: ${o.kind} in ${o.metadata.namespace}`);
        else assert.equal(o.metadata.namespace, 'monitoring', `${f}: ${o.kind} ${o.metadata.name}`);
      }
    }
  });

  it('npm run monitoring:generate -- --check agrees', async () => {
    const result = await run(process.execPath, ['--conditions=development', '--import', 'tsx', 'monitoring/tools/generate.ts', '--check']);
    assert.equal(result.code, 0, result.stderr);
  });
});
