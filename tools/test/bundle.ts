/**
 * Bundles test files into plain JavaScript for `node --test`, and runs a package's fast tests in one
 * process.
 *
 * Why bundle: on Node 20 tsx works through module.register, whose hooks run on a separate thread that
 * every import crosses. For a service's module graph that costs 1-2 s of CPU in every test process
 * (importing Auth's app: 2.8 s of CPU through tsx, 1.1 s bundled). esbuild is the compiler tsx itself
 * uses, so the JavaScript that runs is the same; only the loading differs.
 *
 * Why group (--group-packages): `node --test` starts one process per file, and each of them loads
 * Fastify, zod, pg and the service again. The gateway's eight test files take 16.5 s of CPU as eight
 * processes and 5.1 s as one. So the fast tests of each package (packages/X/test, services/X/test, not
 * *.integration.test.ts) are imported by one entry and run in one process, one file after another.
 * A file that changes process-wide state (environment, a global SDK, patched stdout) says so in a
 * line starting `// Runs in its own process:` and keeps its own process.
 *
 * What is bundled: our own TypeScript (relative imports and the @sre/* workspaces, through their
 * `development` export condition). npm packages stay external imports, resolved at run time from the
 * repository's node_modules exactly as they are when running through tsx. `import.meta.url` (and
 * `dirname`, `filename`) keep naming the original source file, so paths built from them still work.
 *
 * Usage: node --import tsx tools/test/bundle.ts OUT_DIR [--group-packages] FILE...
 * Prints one bundle path per line, for the test runner.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/** `lodash/fp` → `lodash`, `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The folder holding the nearest package.json above a file. */
function packageDir(file: string): string {
  let dir = dirname(file);
  while (dir !== ROOT && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/**
 * npm packages stay imports. The bundle lives under the root node_modules, so it resolves them from
 * there: a package that a workspace holds in its own node_modules (a version the root does not have)
 * would silently resolve to another copy, so that is refused instead.
 */
const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@sre/') || args.path.startsWith('node:')) return undefined;
      const name = packageName(args.path);
      const nested = join(packageDir(args.importer), 'node_modules', name);
      if (packageDir(args.importer) !== ROOT && existsSync(nested)) {
        return { errors: [{ text: `${name} is installed in ${relative(ROOT, nested)}, not at the root: run this file through tsx (npm test -- FILE)` }] };
      }
      return { path: args.path, external: true };
    });
  },
};

/** import.meta.url, .dirname and .filename name the source file, not the bundle. */
const sourceImportMeta: Plugin = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

/** Matches a test file that must not share its process (see the header). */
const OWN_PROCESS = /^\/\/ Runs in its own process: /m;

/** packages/X or services/X for a fast test file that may share a process; undefined otherwise. */
function groupOf(file: string): string | undefined {
  const match = /^((?:packages|services)\/[^/]+)\/test\/[^/]+(?<!\.integration)\.test\.ts$/.exec(relative(ROOT, file));
  if (!match || OWN_PROCESS.test(readFileSync(file, 'utf8'))) return undefined;
  return match[1];
}

/** One entry per package group (a module importing its files in order), one per remaining file. */
function entryPoints(files: string[], groupPackages: boolean): Array<{ in: string; out: string }> {
  const groups = new Map<string, string[]>();
  const entries: Array<{ in: string; out: string }> = [];
  for (const file of files) {
    const group = groupPackages ? groupOf(file) : undefined;
    if (group) groups.set(group, [...(groups.get(group) ?? []), file]);
    else entries.push({ in: file, out: relative(ROOT, file).replace(/\.ts$/, '') });
  }
  for (const [group, members] of groups) {
    if (members.length === 1) entries.push({ in: members[0]!, out: relative(ROOT, members[0]!).replace(/\.ts$/, '') });
    else entries.push({ in: `${GROUP_NAMESPACE}:${members.join(',')}`, out: `${group}/test/fast-tests` });
  }
  return entries;
}

const GROUP_NAMESPACE = 'test-group';

/** The entry module of a group: imports its files, whose describe() calls register in that order. */
const groupEntries: Plugin = {
  name: 'group-entries',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${GROUP_NAMESPACE}:`) }, (args) => ({ path: args.path, namespace: GROUP_NAMESPACE }));
    b.onLoad({ filter: /.*/, namespace: GROUP_NAMESPACE }, (args) => ({
      contents: args.path
        .slice(GROUP_NAMESPACE.length + 1)
        .split(',')
        .map((file) => `import ${JSON.stringify(file)};`)
        .join('\n'),
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const groupPackages = args.includes('--group-packages');
  const [outDir, ...files] = args.filter((a) => a !== '--group-packages');
  if (!outDir || files.length === 0) {
    console.error('usage: bundle.ts OUT_DIR [--group-packages] FILE...');
    process.exit(2);
  }
  const out = resolve(outDir);
  const entries = entryPoints(
    files.map((f) => resolve(f)),
    groupPackages,
  );
  await rm(out, { recursive: true, force: true });
  await build({
    entryPoints: entries,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Code reached only through `await import()` (the S3 storage, tracing's SDK) stays in its own
    // chunk, so a test that never takes that path does not load its npm packages either.
    splitting: true,
    chunkNames: '_chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    conditions: ['development'],
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'error',
    plugins: [groupEntries, externalNpmPackages, sourceImportMeta],
  });
  for (const entry of entries) process.stdout.write(join(out, `${entry.out}.mjs`) + '\n');
}

await main();
