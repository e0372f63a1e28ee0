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
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, transform, type Plugin } from 'esbuild';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Matches a test file that must not share its process (see the header). */
const OWN_PROCESS = /^\/\/ Runs in its own process: /m;

const GROUP_NAMESPACE = 'test-group';

export interface BundleOptions {
  /** The repository root: groups are found, and bundles named, relative to it. */
  root?: string;
  outDir: string;
  files: string[];
  groupPackages: boolean;
}

/** An esbuild entry: a test file, or a group of them; `out` is the bundle's path under outDir, without .mjs. */
export interface Entry {
  in: string;
  out: string;
}

/** `lodash/fp` → `lodash`, `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** packages/X or services/X for a fast test file that may share a process; undefined otherwise. */
function groupOf(root: string, file: string): string | undefined {
  const match = /^((?:packages|services)\/[^/]+)\/test\/[^/]+(?<!\.integration)\.test\.ts$/.exec(relative(root, file));
  if (!match || OWN_PROCESS.test(readFileSync(file, 'utf8'))) return undefined;
  return match[1];
}

/** One entry per package group (a module importing its files in order), one per remaining file. */
export function planEntries(root: string, files: string[], groupPackages: boolean): Entry[] {
  const own = (file: string): Entry => ({ in: file, out: relative(root, file).replace(/\.ts$/, '') });
  const groups = new Map<string, string[]>();
  const entries: Entry[] = [];
  for (const file of files) {
    const group = groupPackages ? groupOf(root, file) : undefined;
    if (group) groups.set(group, [...(groups.get(group) ?? []), file]);
    else entries.push(own(file));
  }
  for (const [group, members] of groups) {
    entries.push(members.length === 1 ? own(members[0]!) : { in: `${GROUP_NAMESPACE}:${members.join(',')}`, out: `${group}/test/fast-tests` });
  }
  return entries;
}

/** The entry module of a group: imports its files, whose describe() calls register in that order. */
function groupEntries(root: string): Plugin {
  return {
    name: 'group-entries',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${GROUP_NAMESPACE}:`) }, (args) => ({ path: args.path, namespace: GROUP_NAMESPACE }));
      b.onLoad({ filter: /.*/, namespace: GROUP_NAMESPACE }, (args) => ({
        contents: args.path
          .slice(GROUP_NAMESPACE.length + 1)
          .split(',')
          .map((file) => `import ${JSON.stringify(file)};`)
          .join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * npm packages stay imports. The bundles live under the root node_modules, so they resolve them from
 * there: a package that a workspace holds in its own node_modules (a version the root does not have)
 * would silently resolve to the other copy, so that is refused instead.
 */
function externalNpmPackages(root: string): Plugin {
  const packageDir = (file: string): string => {
    let dir = dirname(file);
    while (dir !== root && dir !== dirname(dir) && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
    return dir;
  };
  return {
    name: 'external-npm-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@sre/') || args.path.startsWith('node:')) return undefined;
        const name = packageName(args.path);
        const workspace = packageDir(args.importer);
        const nested = join(workspace, 'node_modules', name);
        if (workspace !== root && existsSync(nested)) {
          return {
            errors: [
              {
                text: `${relative(root, nested)} is a workspace's own copy of ${name}: a bundle would load the root's copy instead (npm dedupe, or resolve it here)`,
              },
            ],
          };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * An `import()` whose argument is computed cannot be bundled and is left for Node to resolve at run
 * time, which resolves `@sre/*` without the `development` condition: to the compiled dist/, stale or
 * missing. A computed import of our own code (a template starting `@sre/`, `./` or `../`) is refused.
 */
const COMPUTED_IMPORT_OF_OUR_CODE = /\bimport\(\s*`(?:@sre\/|\.\.?\/)[^`]*\$\{/;

/**
 * Reads our TypeScript: refuses computed imports of our code (above), and makes import.meta.url,
 * .dirname and .filename name the source file, not the bundle. Those are replaced as expressions by
 * esbuild's `define` (a string that mentions them stays), with an inline source map that the build then
 * chains, so stack traces still reach the .ts lines. verbatimModuleSyntax as in tsconfig.base.json.
 */
const sourceFiles: Plugin = {
  name: 'source-files',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const computed = COMPUTED_IMPORT_OF_OUR_CODE.exec(text);
      if (computed) {
        const line = text.slice(0, computed.index).split('\n').length;
        return {
          errors: [
            {
              text: `a computed import() of our own code would load the compiled dist/ at run time: import each module by a literal name`,
              location: { file: args.path, line, column: 0, lineText: text.split('\n')[line - 1] ?? '' },
            },
          ],
        };
      }
      if (!text.includes('import.meta')) return undefined;
      const { code } = await transform(text, {
        loader: 'ts',
        format: 'esm',
        sourcefile: args.path,
        sourcemap: 'inline',
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
        define: {
          'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
          'import.meta.dirname': JSON.stringify(dirname(args.path)),
          'import.meta.filename': JSON.stringify(args.path),
        },
      });
      return { contents: code, loader: 'js' };
    });
  },
};

/** Writes the bundles (replacing outDir) and returns their paths in the order node --test will run them: the files of their own as given, then the groups. */
export async function bundleTests({ root = REPO_ROOT, outDir, files, groupPackages }: BundleOptions): Promise<string[]> {
  const out = resolve(outDir);
  // node --test sorts the files it is given by path. A numbered folder per bundle keeps the order of
  // `files` (run.sh starts the longest first), then the groups.
  const entries = planEntries(
    root,
    files.map((f) => resolve(f)),
    groupPackages,
  ).map((entry, i) => ({ ...entry, out: `${String(i).padStart(3, '0')}/${entry.out}` }));
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
    logLevel: 'silent',
    plugins: [groupEntries(root), externalNpmPackages(root), sourceFiles],
  });
  return entries.map((entry) => join(out, `${entry.out}.mjs`));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const groupPackages = args.includes('--group-packages');
  const [outDir, ...files] = args.filter((a) => a !== '--group-packages');
  if (!outDir || files.length === 0) {
    console.error('usage: bundle.ts OUT_DIR [--group-packages] FILE...');
    process.exit(2);
  }
  try {
    for (const bundle of await bundleTests({ outDir, files, groupPackages })) process.stdout.write(`${bundle}\n`);
  } catch (err) {
    // esbuild's message lists every error with its file and line.
    console.error(`test: bundling the test files failed\n${(err as Error).message}`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
