import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The repository's own eslint.config.js, run on small files written into the tree for the test (the
 * layer rules go by path, and the import resolver needs real files). Each bad import must be reported
 * by the rule that guards it; a good import must pass, so the rules are not simply failing everything.
 * The files are named lint-scratch-*, which tsconfig.json and eslint.config.js ignore, so a lint or
 * typecheck of the tree running meanwhile never sees them; here ignoring is switched off and the
 * type-aware parser gets tools/lint/test/tsconfig.scratch.json.
 */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const scratch = join(ROOT, 'tools', 'lint', 'test', `lint-scratch-${process.pid}`);
const inPlatform = join(ROOT, 'packages', 'platform', 'src', `lint-scratch-${process.pid}.ts`);
const inGateway = join(ROOT, 'services', 'gateway', 'src', `lint-scratch-${process.pid}.ts`);

/** Every file the lint cases read, written before the first lint: see `before`. */
const sources = new Map<string, string>([
  [join(scratch, 'good.ts'), "import { z } from '@sre/platform';\nexport const schema = z.string();\n"],
  [join(scratch, 'relative.ts'), "import { z } from '../../../../packages/platform/src/config.js';\nexport const schema = z.string();\n"],
  [join(scratch, 'deep.ts'), "import { z } from '@sre/platform/src/config.js';\nexport const schema = z.string();\n"],
  [inPlatform, "import { configSchema } from '@sre/auth/config';\nexport const schema = configSchema;\n"],
  [
    inGateway,
    "import { configSchema } from '@sre/auth/config';\nimport { Launcher } from '@sre/launcher/launcher';\nexport const both = [configSchema, Launcher];\n",
  ],
  [join(scratch, 'cycle-a.ts'), "import { b } from './cycle-b.js';\nexport const a = () => b;\n"],
  [join(scratch, 'cycle-b.ts'), "import { a } from './cycle-a.js';\nexport const b = () => a;\n"],
  [join(scratch, 'floating.ts'), 'async function work(): Promise<void> {}\nwork();\n'],
]);

/**
 * The TypeScript program behind the type-aware rules knows only the files that exist when it is made, and
 * under CI=true typescript-eslint assumes a single run and never updates it. So every scratch file is
 * written before the first lint (a file written later was "not found in any of the provided projects").
 */
const eslint = new ESLint({
  cwd: ROOT,
  ignore: false,
  overrideConfig: {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: join(import.meta.dirname, 'tsconfig.scratch.json'), tsconfigRootDir: ROOT } },
  },
});
before(() => {
  mkdirSync(scratch, { recursive: true });
  for (const [file, source] of sources) writeFileSync(file, source);
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(inPlatform, { force: true });
  rmSync(inGateway, { force: true });
});

/** Lints one scratch file and returns the rule ids reported. */
async function rulesReported(file: string): Promise<string[]> {
  assert.ok(sources.has(file), `${file} is not written before the first lint`);
  const [result] = await eslint.lintFiles([file]);
  assert.ok(result, `eslint returned no result for ${file}`);
  return result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe('lint: package boundaries, import direction and cycles', { timeout: 300_000 }, () => {
  it('accepts a tool importing a package through its exports (control)', async () => {
    const rules = await rulesReported(join(scratch, 'good.ts'));
    assert.deepEqual(rules, []);
  });

  it("rejects a relative path into another package's src/", async () => {
    const rules = await rulesReported(join(scratch, 'relative.ts'));
    assert.ok(rules.includes('import-x/no-relative-packages'), `reported: ${rules.join(', ')}`);
    assert.ok(rules.includes('no-restricted-imports'), `reported: ${rules.join(', ')}`);
  });

  it("rejects '@sre/x/src/...' (a package's src/ is not its public surface)", async () => {
    const rules = await rulesReported(join(scratch, 'deep.ts'));
    assert.ok(rules.includes('no-restricted-imports'), `reported: ${rules.join(', ')}`);
  });

  it('rejects a package importing a service (imports run tools → services → packages)', async () => {
    const rules = await rulesReported(inPlatform);
    assert.deepEqual(rules, ['no-restricted-imports']);
  });

  it('rejects a service importing another service, or a tool', async () => {
    const rules = await rulesReported(inGateway);
    assert.deepEqual(rules, ['no-restricted-imports', 'no-restricted-imports']);
  });

  it('rejects an import cycle', async () => {
    const rules = await rulesReported(join(scratch, 'cycle-a.ts'));
    assert.deepEqual(rules, ['import-x/no-cycle']);
  });

  it('rejects a floating promise (type-aware lint)', async () => {
    const rules = await rulesReported(join(scratch, 'floating.ts'));
    assert.deepEqual(rules, ['@typescript-eslint/no-floating-promises']);
  });

  it('the cycle check (npm run lint:cycles, madge) also rejects a cycle through type-only imports', () => {
    // import-x/no-cycle ignores `import type` edges; madge sees them (the two cycles issue 14 named were type-only).
    writeFileSync(join(scratch, 'types-a.ts'), "import type { B } from './types-b.js';\nexport interface A { b?: B }\nexport const a = 1;\n");
    writeFileSync(join(scratch, 'types-b.ts'), "import { a } from './types-a.js';\nexport interface B { n: number }\nexport const b = a;\n");
    const args = ['--circular', '--extensions', 'ts', '--ts-config', 'tsconfig.json', '--no-spinner', '--no-color'];
    const bad = spawnSync(join(ROOT, 'node_modules', '.bin', 'madge'), [...args, scratch], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /types-a\.ts > .*types-b\.ts|types-b\.ts > .*types-a\.ts/);
    const good = spawnSync(join(ROOT, 'node_modules', '.bin', 'madge'), [...args, join(scratch, 'good.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(good.status, 0, good.stdout + good.stderr);
  });
});
