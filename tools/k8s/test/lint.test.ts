/** yamllint (repository .yamllint) on the manifests and shellcheck on the k8s scripts. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { REPO_ROOT } from '../secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'sre-k8s-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8' });
const yamllint = (...paths: string[]) => run('yamllint', ['-s', '-c', join(REPO_ROOT, '.yamllint'), ...paths]);
const scripts = readdirSync(join(REPO_ROOT, 'tools/k8s'))
  .filter((f) => f.endsWith('.sh'))
  .map((f) => join('tools/k8s', f));

describe('yamllint', requireTool('yamllint', 'apt-get install yamllint'), () => {
  it('k8s/ and tools/k8s/overlays/ are clean', () => {
    const result = yamllint('k8s/', 'tools/k8s/overlays/');
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('fails on a duplicated key and on bad indentation', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n   name: x\n');
    const result = yamllint(file);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /duplication of key "kind"/);
    assert.match(result.stdout, /wrong indentation/);
  });
});

describe('shellcheck', requireTool('shellcheck', 'apt-get install shellcheck'), () => {
  it('the k8s scripts are clean', () => {
    assert.ok(scripts.length >= 2, `scripts found: ${scripts.join(', ')}`);
    const result = run('shellcheck', ['--severity=style', ...scripts]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('fails on an unquoted expansion', () => {
    const file = join(dir, 'broken.sh');
    writeFileSync(file, '#!/usr/bin/env bash\nrm -rf $1/tmp\n');
    const result = run('shellcheck', [file]);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /SC2086/);
  });
});
