import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compileServices } from '../src/compile.js';
import { REPO_ROOT, SERVICES, serviceArgs } from '../src/launcher.js';

/** The launcher runs the services from JavaScript it compiles beside their sources (compile.ts). */
describe('launcher: compiling the services for npm start', () => {
  const root = mkdtempSync(join(tmpdir(), 'launcher-compile-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const src = join(root, 'svc', 'src');
  mkdirSync(join(src, 'nested'), { recursive: true });
  writeFileSync(join(root, 'svc', 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(src, 'main.ts'),
    "import type { Shape } from './nested/shape.js';\nimport data from './data.json' with { type: 'json' };\nimport { area } from './nested/shape.js';\nconst s: Shape = { side: data.side };\nconsole.log(area(s));\n",
  );
  writeFileSync(join(src, 'nested', 'shape.ts'), 'export interface Shape { side: number }\nexport const area = (s: Shape): number => s.side * s.side;\n');
  writeFileSync(join(src, 'data.json'), '{ "side": 7 }\n');
  writeFileSync(join(src, 'main.test.ts'), "throw new Error('tests are not compiled');\n");

  it('writes dist/ file for file beside src/ (JSON modules too, tests not), and the result runs on plain node', async () => {
    const first = await compileServices(root, ['svc']);
    assert.equal(first.written, first.files);
    const dist = join(root, 'svc', 'dist');
    for (const file of ['main.js', 'main.js.map', 'nested/shape.js', 'data.json']) assert.ok(existsSync(join(dist, file)), file);
    assert.ok(!existsSync(join(dist, 'main.test.js')), 'test files stay out');
    assert.match(readFileSync(join(dist, 'main.js'), 'utf8'), /with \{ type: "json" \}/, 'the JSON import keeps its attribute (Node refuses it without)');
    const run = spawnSync(process.execPath, [join(dist, 'main.js')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '49');
  });

  it('an unchanged tree writes nothing; a changed source rewrites only its own output', async () => {
    const again = await compileServices(root, ['svc']);
    assert.equal(again.written, 0);
    writeFileSync(join(src, 'nested', 'shape.ts'), 'export interface Shape { side: number }\nexport const area = (s: Shape): number => s.side * 2;\n');
    const changed = await compileServices(root, ['svc']);
    assert.equal(changed.written, 2, 'shape.js and its source map');
    const run = spawnSync(process.execPath, [join(root, 'svc', 'dist', 'main.js')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.stdout.trim(), '14');
  });
});

describe('launcher: what a service process runs', () => {
  it('each service starts from its compiled dist/ on plain node (no tsx, no development condition), and those files exist after compiling', async () => {
    await compileServices(REPO_ROOT);
    for (const name of SERVICES) {
      const args = serviceArgs(name);
      assert.ok(!args.some((a) => a.includes('tsx') || a.startsWith('--conditions')), args.join(' '));
      const files = args.filter((a) => a.endsWith('.js'));
      assert.deepEqual(files, [`./services/${name}/dist/tracing.js`, `services/${name}/dist/main.js`]);
      for (const file of files) assert.ok(existsSync(join(REPO_ROOT, file)), file);
    }
  });
});
