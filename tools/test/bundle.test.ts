/**
 * The test bundler (ADR 0014) on a fixture repository: which files share a process, that
 * import.meta.url still names the source, that failures point at the .ts line, and that a workspace's
 * own copy of a package is refused rather than silently swapped for the root's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { bundleTests, planEntries } from './bundle.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A test file that reports its process and its import.meta.url, then passes (or fails on purpose). The
 * failing assertion is on line 7. Files using import.meta take another path through the bundler
 * (a transform whose source map is chained), so the failure is checked on both kinds.
 */
function fixtureTest(name: string, options: { marker?: boolean; fail?: boolean; url?: boolean } = {}): string {
  return [
    options.marker ? '// Runs in its own process: the fixture says so.' : '',
    "import assert from 'node:assert/strict';",
    "import { test } from 'node:test';",
    `test(${JSON.stringify(name)}, () => {`,
    `  console.log('FIXTURE', ${JSON.stringify(name)}, process.pid, ${options.url === false ? "'-'" : 'import.meta.url'});`,
    options.fail ? '  const seen: number = 1;\n  assert.equal(seen, 2);' : '',
    '});',
    '',
  ].join('\n');
}

// Under the repository's node_modules, so the bundles resolve npm packages as the real ones do.
let root: string;
const file = (path: string): string => join(root, path);
function write(path: string, text: string): string {
  mkdirSync(dirname(file(path)), { recursive: true });
  writeFileSync(file(path), text);
  return file(path);
}

before(() => {
  mkdirSync(join(REPO_ROOT, 'node_modules/.cache'), { recursive: true });
  root = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache/bundle-test-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('test bundler', () => {
  it('groups the fast files of each package and keeps integration, marked, tools and lone files apart', () => {
    const files = [
      write('packages/demo/test/a.test.ts', fixtureTest('a')),
      write('packages/demo/test/b.test.ts', fixtureTest('b')),
      write('packages/demo/test/own.test.ts', fixtureTest('own', { marker: true })),
      write('packages/demo/test/slow.integration.test.ts', fixtureTest('slow')),
      write('services/solo/test/only.test.ts', fixtureTest('only')),
      write('tools/thing/test/tool.test.ts', fixtureTest('tool')),
    ];
    const outs = (group: boolean) =>
      planEntries(root, files, group)
        .map((e) => e.out)
        .sort();
    assert.deepEqual(outs(true), [
      'packages/demo/test/fast-tests',
      'packages/demo/test/own.test',
      'packages/demo/test/slow.integration.test',
      'services/solo/test/only.test',
      'tools/thing/test/tool.test',
    ]);
    assert.deepEqual(planEntries(root, files, true).find((e) => e.out === 'packages/demo/test/fast-tests')?.in, `test-group:${files[0]},${files[1]}`);
    // Named files (npm test -- FILE ...) each run alone.
    assert.equal(outs(false).length, files.length);
  });

  it('runs a group in one process, keeps import.meta.url on the source and failures on the .ts line', async () => {
    const a = write('packages/run/test/a.test.ts', fixtureTest('a'));
    const b = write('packages/run/test/b.test.ts', fixtureTest('b', { fail: true }));
    const plain = write('packages/run/test/plain.test.ts', fixtureTest('plain', { fail: true, url: false }));
    const own = write('packages/run/test/own.test.ts', fixtureTest('own', { marker: true }));
    const bundles = await bundleTests({ root, outDir: file('out-run'), files: [a, b, plain, own], groupPackages: true });
    assert.deepEqual(
      bundles.map((p) => relative(root, p)),
      ['out-run/000/packages/run/test/own.test.mjs', 'out-run/001/packages/run/test/fast-tests.mjs'],
    );

    // Without NODE_TEST_CONTEXT, which this runner sets: the inner runner would report to it instead.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const result = await promisify(execFile)(process.execPath, ['--enable-source-maps', '--test', ...bundles], { cwd: REPO_ROOT, env }).then(
      () => assert.fail('the failing fixtures should fail the run'),
      (err: { stdout: string }) => err.stdout,
    );
    const seen = new Map<string, { pid: string; url: string }>();
    for (const [, name, pid, url] of result.matchAll(/FIXTURE (\w+) (\d+) (\S+)/g)) seen.set(name!, { pid: pid!, url: url! });
    assert.deepEqual([...seen.keys()].sort(), ['a', 'b', 'own', 'plain']);
    assert.equal(seen.get('a')!.pid, seen.get('b')!.pid, 'a and b share a process');
    assert.notEqual(seen.get('own')!.pid, seen.get('a')!.pid, 'the marked file has its own');
    assert.equal(seen.get('a')!.url, pathToFileURL(a).href);
    for (const failing of [b, plain]) {
      const path = failing.replaceAll('/', '\\/');
      assert.match(result, new RegExp(`location: '${path}:\\d+:\\d+'`), `the failure's location is in ${failing}`);
      assert.match(result, new RegExp(`${path}:7:\\d+`), `the stack names line 7 of ${failing}`);
    }
    assert.match(result, /# pass 2\n# fail 2/);
  });

  it('names the bundles so that node --test, which sorts by path, runs them in the order given', async () => {
    const z = write('tools/order/test/z.test.ts', fixtureTest('z'));
    const a = write('tools/order/test/a.test.ts', fixtureTest('a'));
    const bundles = await bundleTests({ root, outDir: file('out-order'), files: [z, a], groupPackages: true });
    assert.deepEqual(
      bundles.map((p) => relative(file('out-order'), p)),
      ['000/tools/order/test/z.test.mjs', '001/tools/order/test/a.test.mjs'],
    );
    assert.deepEqual([...bundles].sort(), bundles);
  });

  it('refuses a computed import() of our own code, which would load the compiled dist/ at run time', async () => {
    // (Split in two here, or the bundler would refuse this very file.)
    const test = write('packages/computed/test/c.test.ts', "const name = 'auth';\nawait import(" + '`@sre/${name}/app`);\n');
    await assert.rejects(
      bundleTests({ root, outDir: file('out-computed'), files: [test], groupPackages: true }),
      /packages\/computed\/test\/c\.test\.ts:2:.*a computed import\(\) of our own code/s,
    );
    // A computed import of an npm package stays: Node resolves it as it would through tsx.
    const npm = write('packages/computed/test/npm.test.ts', "const kind = 'v1';\nawait import(`kubernetes-models/${kind}/Pod`);\n");
    assert.equal((await bundleTests({ root, outDir: file('out-computed'), files: [npm], groupPackages: true })).length, 1);
  });

  it("refuses a workspace's own copy of an npm package, naming it", async () => {
    write('packages/nested/package.json', '{"name":"nested"}');
    mkdirSync(file('packages/nested/node_modules/zod'), { recursive: true });
    const test = write('packages/nested/test/z.test.ts', "import { z } from 'zod';\nconsole.log(z);\n");
    await assert.rejects(
      bundleTests({ root, outDir: file('out-nested'), files: [test], groupPackages: true }),
      /packages\/nested\/node_modules\/zod is a workspace's own copy of zod/,
    );
  });
});
