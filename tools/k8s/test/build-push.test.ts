/**
 * tools/k8s/build-push.sh: the docker commands it runs and the manifest update. The container
 * engine is a recording stand-in (no Docker engine or registry here); the podman suite in
 * tools/containers builds the real Dockerfiles.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../secrets.js';
import { parseManifests } from '../verify/render.js';
import { field, type IContainer } from '../verify/objects.js';

const root = mkdtempSync(join(tmpdir(), 'sre-k8s-build-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the script and the Deployments, and a `docker` that records its arguments. */
function sandbox(): { dir: string; log: string; cli: string } {
  const dir = mkdtempSync(join(root, 'repo-'));
  mkdirSync(join(dir, 'tools/k8s'), { recursive: true });
  cpSync(join(REPO_ROOT, 'tools/k8s/build-push.sh'), join(dir, 'tools/k8s/build-push.sh'));
  cpSync(join(REPO_ROOT, 'k8s/deployments'), join(dir, 'k8s/deployments'), { recursive: true });
  cpSync(join(REPO_ROOT, 'k8s/jobs'), join(dir, 'k8s/jobs'), { recursive: true });
  const log = join(dir, 'calls.log');
  const cli = join(dir, 'fake-docker');
  writeFileSync(cli, `#!/bin/sh\necho "$*" >> '${log}'\n`);
  chmodSync(cli, 0o755);
  return { dir, log, cli };
}

const run = (s: { dir: string; cli: string }, args: string[]) =>
  spawnSync('bash', [join(s.dir, 'tools/k8s/build-push.sh'), ...args], { cwd: s.dir, encoding: 'utf8', env: { ...process.env, CONTAINER_CLI: s.cli } });

describe('build-push.sh', () => {
  it('builds the three images from the repository root with their Dockerfiles, then pushes them', () => {
    const s = sandbox();
    const result = run(s, ['my-org', '1.2.3']);
    assert.equal(result.status, 0, result.stderr);
    const calls = readFileSync(s.log, 'utf8').trim().split('\n');
    const builds = calls.filter((c) => c.startsWith('build '));
    assert.deepEqual(
      builds.map((c) => c.replace(/ --label \S+/g, '')),
      [
        'build -f services/gateway/Dockerfile -t ghcr.io/my-org/api-service:1.2.3 .',
        'build -f services/auth/Dockerfile -t ghcr.io/my-org/auth-service:1.2.3 .',
        'build -f services/images/Dockerfile -t ghcr.io/my-org/images-service:1.2.3 .',
      ],
    );
    assert.ok(builds.every((c) => c.includes('--label org.opencontainers.image.version=1.2.3')));
    assert.deepEqual(
      calls.filter((c) => c.startsWith('push ')),
      ['push ghcr.io/my-org/api-service:1.2.3', 'push ghcr.io/my-org/auth-service:1.2.3', 'push ghcr.io/my-org/images-service:1.2.3'],
    );
  });

  it('--no-push --update-manifests pins the new images in k8s/deployments and pushes nothing', () => {
    const s = sandbox();
    const result = run(s, ['my-org', '1.2.3', '--no-push', '--update-manifests']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!readFileSync(s.log, 'utf8').includes('push '));
    for (const name of ['api-service', 'auth-service', 'images-service']) {
      const objects = parseManifests(readFileSync(join(s.dir, `k8s/deployments/${name}.yaml`), 'utf8'), name);
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      assert.equal(field<IContainer>(deployment, 'spec', 'template', 'spec', 'containers', 0)!.image, `ghcr.io/my-org/${name}:1.2.3`);
      assert.equal(deployment.metadata.labels?.['app.kubernetes.io/version'], '1.2.3');
      assert.equal(field<Record<string, string>>(deployment, 'spec', 'template', 'metadata', 'labels')?.['app.kubernetes.io/version'], '1.2.3');
    }
    // The reconcile CronJob runs the Images image: it moves with the Deployment.
    const cronJob = parseManifests(readFileSync(join(s.dir, 'k8s/jobs/images-reconcile.yaml'), 'utf8'), 'images-reconcile').find((o) => o.kind === 'CronJob')!;
    assert.equal(field<IContainer>(cronJob, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 0)!.image, 'ghcr.io/my-org/images-service:1.2.3');
    assert.equal(cronJob.metadata.labels?.['app.kubernetes.io/version'], '1.2.3');
  });

  for (const args of [['--help'], ['-h'], ['my-org', '1.2.3', '--help']]) {
    it(`${args.join(' ')} prints the usage and exits 0 without building`, () => {
      const s = sandbox();
      const result = run(s, args);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /tools\/k8s\/build-push\.sh OWNER TAG/);
      // Only the header comment: no line of the script itself.
      assert.doesNotMatch(result.stdout, /set -euo pipefail|^#/m);
      assert.equal(result.stderr, '');
      assert.throws(() => readFileSync(s.log, 'utf8'), /ENOENT/, 'the engine was called');
    });
  }

  for (const [args, message] of [
    [['my-org', 'latest'], /pinned version/],
    [['My-Org', '1.0.0'], /lower case/],
    [['my-org'], /OWNER TAG/],
  ] as const) {
    it(`refuses ${JSON.stringify(args)}`, () => {
      const s = sandbox();
      const result = run(s, [...args]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, message);
    });
  }
});

describe('release-manifests.sh (what images.yml runs on a version tag)', () => {
  it('pins every Deployment image by the digest the registry reports, and renders the kustomization', () => {
    const dir = mkdtempSync(join(root, 'release-'));
    const docker = join(dir, 'fake-docker');
    // buildx imagetools inspect REF --format …: a stable fake digest per image.
    writeFileSync(docker, `#!/bin/sh\nprintf 'sha256:%s\\n' "$(echo "$4" | sha256sum | cut -c1-64)"\n`);
    chmodSync(docker, 0o755);
    const result = spawnSync('bash', [join(REPO_ROOT, 'tools/k8s/release-manifests.sh'), 'ghcr.io/my-org', '1.2.3', join(dir, 'dist')], {
      encoding: 'utf8',
      env: { ...process.env, CONTAINER_CLI: docker },
    });
    assert.equal(result.status, 0, result.stderr);
    const rendered = parseManifests(readFileSync(join(dir, 'dist/sre-platform-1.2.3.yaml'), 'utf8'), 'rendered');
    const images = rendered
      .filter((o) => o.kind === 'Deployment' && o.metadata.namespace === 'app')
      .map((d) => field<IContainer>(d, 'spec', 'template', 'spec', 'containers', 0)!.image);
    assert.equal(images.length, 3);
    for (const image of images) assert.match(image!, /^ghcr\.io\/my-org\/(api|auth|images)-service:1\.2\.3@sha256:[0-9a-f]{64}$/);
    const cronJob = rendered.find((o) => o.kind === 'CronJob' && o.metadata.name === 'images-reconcile')!;
    const imagesDeployment = rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === 'images-service')!;
    assert.equal(
      field<IContainer>(cronJob, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 0)!.image,
      field<IContainer>(imagesDeployment, 'spec', 'template', 'spec', 'containers', 0)!.image,
      'the reconcile CronJob is not pinned to the released Images image',
    );
    assert.ok(!rendered.some((o) => o.kind === 'Secret'), 'a Secret was released');
  });

  it('fails when the registry reports no digest', () => {
    const dir = mkdtempSync(join(root, 'release-'));
    const docker = join(dir, 'fake-docker');
    writeFileSync(docker, '#!/bin/sh\necho "ERROR: not found" >&2\necho ""\n');
    chmodSync(docker, 0o755);
    const result = spawnSync('bash', [join(REPO_ROOT, 'tools/k8s/release-manifests.sh'), 'ghcr.io/my-org', '1.2.3', join(dir, 'dist')], {
      encoding: 'utf8',
      env: { ...process.env, CONTAINER_CLI: docker },
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /no digest for ghcr\.io\/my-org\/api-service:1\.2\.3/);
  });
});
