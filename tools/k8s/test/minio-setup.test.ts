/**
 * The minio-setup Job's script (k8s/data/minio-setup-job.yaml) is idempotent and loud: it succeeds on
 * a fresh MinIO and again on a set-up one, and fails the Job when any step fails or the Images user
 * ends up without its policy. `mc` is a stateful stand-in (fixtures/fake-mc.sh): no MinIO runs here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../secrets.js';
import { find } from '../verify/objects.js';
import { parseManifests } from '../verify/render.js';

const root = mkdtempSync(join(tmpdir(), 'sre-minio-setup-'));
after(() => rmSync(root, { recursive: true, force: true }));

const manifest = parseManifests(readFileSync(join(REPO_ROOT, 'k8s/data/minio-setup-job.yaml'), 'utf8'), 'minio-setup-job.yaml');
const script = (find(manifest, 'ConfigMap', 'app', 'minio-setup')?.data as Record<string, string>)['setup.sh']!;

/** A fresh MinIO state and a PATH whose `mc` is the stand-in and whose `sleep` returns at once. */
function minio(): { state: string; bin: string } {
  const dir = mkdtempSync(join(root, 'run-'));
  const state = join(dir, 'state');
  const bin = join(dir, 'bin');
  mkdirSync(state);
  mkdirSync(bin);
  symlinkSync(join(REPO_ROOT, 'tools/k8s/test/fixtures/fake-mc.sh'), join(bin, 'mc'));
  writeFileSync(join(bin, 'sleep'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'sleep'), 0o755);
  writeFileSync(join(dir, 'setup.sh'), script);
  return { state, bin };
}

function runSetup(m: { state: string; bin: string }, fail?: string) {
  const result = spawnSync('sh', [join(m.state, '..', 'setup.sh')], {
    encoding: 'utf8',
    env: {
      PATH: `${m.bin}:/usr/bin:/bin`,
      MC_STATE: m.state,
      ...(fail ? { MC_FAIL: fail } : {}),
      BUCKET: 'images',
      MINIO_ROOT_USER: 'admin-0123456789ab',
      MINIO_ROOT_PASSWORD: 'root-password-0123456789',
      S3_ACCESS_KEY_ID: 'images-0123456789ab',
      S3_SECRET_ACCESS_KEY: 'images-secret-0123456789',
    },
  });
  return { ...result, calls: readFileSync(join(m.state, 'calls'), 'utf8').trim().split('\n') };
}

describe('minio-setup Job script', () => {
  it('hides no error: no `|| true` and no discarded stderr', () => {
    assert.doesNotMatch(script, /\|\|\s*true/);
    assert.doesNotMatch(script, /2>\s*\/dev\/null/);
  });

  it('creates the bucket, the policy and the Images user with the policy attached', () => {
    const m = minio();
    const result = runSetup(m);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /bucket images and its user are ready/);
    assert.equal(readFileSync(join(m.state, 'attached-images-0123456789ab'), 'utf8').trim(), 'images-rw');
    assert.match(readFileSync(join(m.state, 'policy-images-rw'), 'utf8'), /arn:aws:s3:::images\/\*/);
  });

  it('succeeds again on a MinIO that is already set up, without attaching twice', () => {
    const m = minio();
    assert.equal(runSetup(m).status, 0);
    const again = runSetup(m);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.calls.filter((c) => c.startsWith('admin policy attach')).length, 1, 'attached on both runs');
    assert.match(again.stdout, /already attached/);
  });

  for (const [step, message] of [
    ['policy-create', /Unable to create new policy/],
    ['attach', /Unable to attach policy/],
    ['attach-noop', /does not have the images-rw policy/],
    ['alias', /did not answer after 60 attempts/],
  ] as const) {
    it(`fails the Job when ${step} fails`, () => {
      const result = runSetup(minio(), step);
      assert.notEqual(result.status, 0, `exit 0 although ${step} failed:\n${result.stdout}`);
      assert.doesNotMatch(result.stdout, /are ready/);
      assert.match(result.stderr, message);
    });
  }
});
