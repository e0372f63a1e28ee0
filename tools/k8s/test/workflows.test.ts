/**
 * The GitHub Actions workflows (.github/workflows/*.yml) cannot run here: they are checked as far as
 * they can be without GitHub. Each validates against the workflow schema (@action-validator/cli),
 * pins third-party actions by commit SHA, grants least privilege per job, reads every third-party
 * version from tools/k8s/cluster/versions.json, and calls only scripts and npm targets that exist.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { parse } from 'yaml';
import { REPO_ROOT } from '../secrets.js';
import { VERSIONS_FILE } from '../cluster/versions.js';

const dir = join(REPO_ROOT, '.github/workflows');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const scratch = mkdtempSync(join(tmpdir(), 'sre-workflows-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Job {
  permissions?: Record<string, string> | string;
  steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
}
const workflow = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as { permissions?: unknown; jobs: Record<string, Job> };
const validator = join(REPO_ROOT, 'node_modules/.bin/action-validator');
const validate = (file: string) => spawnSync(validator, [file], { encoding: 'utf8' });

describe('GitHub Actions workflows', () => {
  it('ci, images and e2e exist', () => {
    assert.deepEqual(files, ['ci.yml', 'e2e.yml', 'images.yml']);
  });

  for (const f of files) {
    it(`${f} is valid against the workflow schema (action-validator)`, () => {
      const result = validate(join(dir, f));
      assert.equal(result.status, 0, result.stdout + result.stderr);
    });
  }

  it('the schema check can fail: an unknown trigger and a job without steps are rejected', () => {
    const broken = join(scratch, 'broken.yml');
    writeFileSync(broken, 'name: broken\non: pushh\njobs:\n  a:\n    runs-on: ubuntu-24.04\n');
    const result = validate(broken);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout + result.stderr, /\/on/);
  });

  it('pins every third-party action by full commit SHA with a version comment', () => {
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const [, ref, comment] of text.matchAll(/uses:\s*(\S+)(.*)$/gm)) {
        if (ref!.startsWith('./')) continue;
        assert.match(ref!, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${f}: ${ref} is not pinned by commit SHA`);
        assert.match(comment!, /#\s*v?\d+\.\d+\.\d+/, `${f}: ${ref} has no version comment`);
      }
    }
  });

  it('grants nothing at the top and least privilege per job', () => {
    const allowedWrites: Record<string, string[]> = { 'images.yml/build': ['packages'] };
    for (const f of files) {
      const wf = workflow(f);
      assert.deepEqual(wf.permissions, {}, `${f}: top-level permissions must be {}`);
      for (const [name, job] of Object.entries(wf.jobs)) {
        assert.ok(job.permissions && typeof job.permissions === 'object', `${f}/${name} has no permissions block`);
        const writes = Object.entries(job.permissions)
          .filter(([, v]) => v === 'write')
          .map(([k]) => k);
        assert.deepEqual(writes, allowedWrites[`${f}/${name}`] ?? [], `${f}/${name} writes ${writes.join(', ')}`);
      }
    }
  });

  it('calls only npm targets and scripts that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    let checked = 0;
    for (const f of files) {
      for (const job of Object.values(workflow(f).jobs)) {
        for (const step of job.steps) {
          const run = step.run ?? '';
          for (const [, target] of run.matchAll(/npm run ([\w:-]+)/g)) {
            checked++;
            assert.ok(scripts[target!], `${f}: npm run ${target} is not a script of package.json`);
          }
          for (const [, path] of run.matchAll(/(?:^|\s)((?:tools|\.ci|services)\/[\w./-]+)/g)) {
            checked++;
            assert.ok(existsSync(join(REPO_ROOT, path!)), `${f}: ${path} does not exist`);
          }
          if (/npm test\b/.test(run)) assert.ok(scripts.test);
        }
      }
    }
    assert.ok(checked >= 8, `only ${checked} references checked`);
    // The e2e workflow runs exactly what the issue asks.
    const e2e = readFileSync(join(dir, 'e2e.yml'), 'utf8');
    assert.match(e2e, /npm run cluster:up/);
    assert.match(e2e, /npm run drill -- all --target kubernetes/);
  });

  it('reads third-party versions from versions.json instead of repeating them', () => {
    const versions = JSON.parse(readFileSync(VERSIONS_FILE, 'utf8')) as Record<string, Record<string, string> | string>;
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const [name, pins] of Object.entries(versions)) {
        if (typeof pins === 'string') continue;
        for (const value of Object.values(pins))
          assert.ok(!text.includes(value), `${f} repeats ${name} ${value}: read it from tools/k8s/cluster/versions.json`);
      }
    }
    assert.match(readFileSync(join(dir, 'e2e.yml'), 'utf8'), /jq -r \.kind\.version tools\/k8s\/cluster\/versions\.json/);
  });

  it('are yamllint-clean', requireTool('yamllint', 'apt-get install yamllint'), () => {
    const result = spawnSync('yamllint', ['-s', '-c', join(REPO_ROOT, '.yamllint'), dir], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
