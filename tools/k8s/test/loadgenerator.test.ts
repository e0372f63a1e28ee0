/**
 * The opt-in load generator component (k8s/components/loadgenerator), rendered through its overlay
 * as users apply it: valid objects, the best-practice gate, and a NetworkPolicy truth table in which
 * the load generator reaches exactly api-service's app port and DNS, nothing reaches it, and every
 * other cell is as without the component.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { checkBestPractices } from '../verify/gate.js';
import { cellName, truthTable } from '../verify/netpol.js';
import { find, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';
import { validateObjects } from '../verify/schema.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

function renderOverlay(): { base: K8sObject[]; withLoad: K8sObject[] } {
  const { workspace, objects } = renderedPlatform();
  // With the generated Secrets, as the base has them (k8s/secrets.yaml is applied beside kustomize).
  return { base: objects, withLoad: renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/loadgenerator')) };
}

describe('load generator component', kubectl, () => {
  it('adds a loadgenerator Deployment running the load tool against api-service, and valid objects only', async () => {
    const { base, withLoad } = renderOverlay();
    const deployment = find(withLoad, 'Deployment', 'app', 'loadgenerator');
    assert.ok(deployment, 'no Deployment app/loadgenerator');
    const container = (deployment.spec as { template: { spec: { containers: { image: string; args: string[] }[] } } }).template.spec.containers[0]!;
    assert.match(container.image, /\/loadgenerator:/);
    assert.ok(container.args.includes('--target=http://api-service.app.svc.cluster.local:8080'));
    assert.ok(
      container.args.some((a) => a.startsWith('--duration=')),
      'bounded in time',
    );
    assert.equal(withLoad.length, base.length + 3, 'the Deployment and two NetworkPolicies, nothing else');
    assert.deepEqual(await validateObjects(withLoad), []);
  });

  it('passes the best-practice gate, except the serving-pod rules (probes, HPA, PDB, 2+ replicas)', () => {
    // The load generator is a client: no Service sends it traffic (so no readiness), it has no port
    // to probe, and running it once, unscaled and disruptable, is the point. Every other rule holds.
    const servingRules = /^\[(probes|availability)\] Deployment app\/loadgenerator /;
    const problems = checkBestPractices(renderOverlay().withLoad);
    assert.deepEqual(
      problems.filter((p) => !servingRules.test(p)),
      [],
    );
    assert.ok(problems.length > 0, 'the serving-pod rules did see the Deployment');
  });

  it('reaches exactly api-service:8080 and DNS; nothing reaches it; every other cell unchanged', () => {
    const { base, withLoad } = renderOverlay();
    const before = truthTable(base, 'app');
    const after = truthTable(withLoad, 'app');
    const allowedNames = (table: typeof after, keep: (name: string) => boolean) =>
      [...table.values()]
        .filter((c) => c.allowed)
        .map((c) => cellName(c.cell))
        .filter(keep)
        .sort();
    const involvesLoad = (name: string) => name.includes('app/loadgenerator');
    const loadCells = allowedNames(after, involvesLoad);
    assert.ok(loadCells.includes('app/loadgenerator → app/api-service:8080/TCP'), loadCells.join('\n'));
    const others = loadCells.filter((c) => c !== 'app/loadgenerator → app/api-service:8080/TCP');
    assert.ok(
      others.every((c) => /^app\/loadgenerator → kube-system\/[^:]+:53\/(UDP|TCP)$/.test(c)),
      `unexpected edges:\n${others.join('\n')}`,
    );
    assert.ok(
      [...after.values()].some((c) => involvesLoad(cellName(c.cell)) && cellName(c.cell).startsWith('app/loadgenerator → app/auth-service')),
      'the table has load generator cells to deny',
    );
    assert.deepEqual(
      allowedNames(after, (n) => !involvesLoad(n)),
      allowedNames(before, () => true),
    );
  });
});
