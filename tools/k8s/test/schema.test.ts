/** Every rendered object is valid against the Kubernetes OpenAPI schema (kubernetes-models). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { field, find, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';
import { validateObjects } from '../verify/schema.js';
import { join } from 'node:path';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

function mutated(mutate: (objects: K8sObject[]) => void): K8sObject[] {
  const { objects } = renderedPlatform();
  mutate(objects);
  return objects;
}

const deployment = (objects: K8sObject[], name = 'api-service') => find(objects, 'Deployment', 'app', name)!;

describe('Kubernetes schema validation', kubectl, () => {
  it('every object of k8s/ (monitoring included) is valid', async () => {
    const { objects } = renderedPlatform();
    assert.ok(objects.length >= 30, `only ${objects.length} objects rendered`);
    assert.deepEqual(await validateObjects(objects), []);
  });

  it('every object of the chaos overlay is valid', async () => {
    const { workspace } = renderedPlatform();
    assert.deepEqual(await validateObjects(renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/chaos'))), []);
  });

  const broken: [string, (objects: K8sObject[]) => void, RegExp][] = [
    ['replicas as a string', (o) => ((deployment(o).spec as Record<string, unknown>).replicas = '2'), /replicas must be integer/],
    [
      'a container port that is not a number',
      (o) => (field<{ containerPort: unknown }[]>(deployment(o), 'spec', 'template', 'spec', 'containers', 0, 'ports')![0]!.containerPort = 'http'),
      /containerPort must be integer/,
    ],
    ['a container without a name', (o) => delete field<Record<string, unknown>>(deployment(o), 'spec', 'template', 'spec', 'containers', 0)!.name, /name/],
    [
      'an HPA metric without its target',
      (o) => delete field<Record<string, unknown>>(find(o, 'HorizontalPodAutoscaler', 'app', 'api-service'), 'spec', 'metrics', 0, 'resource')!.target,
      /target/,
    ],
    [
      'a NetworkPolicy with a malformed port list',
      (o) => (field<Record<string, unknown>>(find(o, 'NetworkPolicy', 'app', 'api-service'), 'spec', 'ingress', 0)!.ports = 'http'),
      /ports must be array/,
    ],
    [
      'an object of an unknown kind',
      (o) => o.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'app' } }),
      /no schema for example.com\/v1 Widget/,
    ],
  ];
  for (const [what, mutate, message] of broken) {
    it(`fails on ${what}`, async () => {
      const problems = await validateObjects(mutated(mutate));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, message);
    });
  }
});
