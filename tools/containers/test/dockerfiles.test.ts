import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { NODE_BASE_IMAGE, NODE_IMAGE_VERSION, renderDockerfile, SERVICE_DOCKERFILES } from '../src/dockerfiles.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('Dockerfiles: one source, one Node.js line', () => {
  for (const spec of SERVICE_DOCKERFILES) {
    it(`services/${spec.dir}/Dockerfile is what tools/containers/src/dockerfiles.ts renders (npm run containers:generate)`, () => {
      assert.equal(read(`services/${spec.dir}/Dockerfile`), renderDockerfile(spec));
    });
  }

  it('every generated Dockerfile differs only in what its service states (the rest is the shared template)', () => {
    const [auth, images] = SERVICE_DOCKERFILES.map((s) => renderDockerfile(s).split('\n'));
    const shared = auth!.filter((line) => images!.includes(line));
    assert.ok(shared.length / auth!.length > 0.8, `${shared.length} of ${auth!.length} lines shared`);
  });

  it('the load generator image starts from the same Node.js image', () => {
    const froms = [...read('tools/load/Dockerfile').matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]).filter((f) => f?.includes(':'));
    assert.deepEqual(froms, [NODE_BASE_IMAGE]);
  });

  it('.nvmrc names the images’ major version and engines still admit the Node.js 20.19+ of our dev machines', () => {
    assert.equal(read('.nvmrc').trim(), NODE_IMAGE_VERSION.split('.')[0]);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, '>=20.19.0');
  });
});
