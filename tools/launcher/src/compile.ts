import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, stop } from 'esbuild';

/**
 * `npm start` runs the services from JavaScript compiled here, not through tsx (issue 11, footprint):
 * tsx transpiles in a loader thread that each service keeps for its lifetime (≈ 50 MB resident per
 * process measured on the gateway), and transpiles every module again at each start, which made a
 * restarted instance take tens of seconds on a busy machine (the pod-deletion drill's bound).
 *
 * The output has the layout `tsc -p tsconfig.build.json` (npm run build, the container images) gives:
 * `<workspace>/dist/` beside `src/`, file for file, so `@sre/platform` resolves to its `dist/` through
 * its package exports exactly as in the images. esbuild only strips types (as tsx does); `npm test`
 * and the editor typecheck. Files are written only when their content changed, each through a rename,
 * so launchers starting side by side (tests) never see a half-written module and an unchanged tree
 * costs one read per file.
 */

/** The workspaces a service process loads, in dependency order. */
export const RUNTIME_WORKSPACES = ['packages/platform', 'services/auth', 'services/images', 'services/gateway'] as const;

export interface CompileResult {
  /** Files whose content changed (0 when dist/ was already current). */
  written: number;
  files: number;
}

function sourcesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && (e.name.endsWith('.json') || (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))))
    .map((e) => join(e.parentPath, e.name));
}

/** Writes `content` to `file` unless it already holds exactly that; returns whether it wrote. */
function writeIfChanged(file: string, content: Uint8Array): boolean {
  try {
    if (Buffer.compare(readFileSync(file), content) === 0) return false;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
  return true;
}

export async function compileServices(repoRoot: string, workspaces: readonly string[] = RUNTIME_WORKSPACES): Promise<CompileResult> {
  try {
    return await compileWorkspaces(repoRoot, workspaces);
  } finally {
    // esbuild keeps a helper process for the next build; the launcher builds once (≈ 24 MB resident).
    await stop();
  }
}

async function compileWorkspaces(repoRoot: string, workspaces: readonly string[]): Promise<CompileResult> {
  let written = 0;
  let files = 0;
  for (const workspace of workspaces) {
    const src = join(repoRoot, workspace, 'src');
    const dist = join(repoRoot, workspace, 'dist');
    const sources = sourcesOf(src);
    const tsconfig = join(repoRoot, workspace, 'tsconfig.build.json');
    // JSON modules (imported `with { type: 'json' }`) are copied as they are, as tsc does.
    for (const json of sources.filter((f) => f.endsWith('.json'))) {
      files++;
      if (writeIfChanged(join(dist, relative(src, json)), readFileSync(json))) written++;
    }
    const result = await build({
      entryPoints: sources.filter((f) => f.endsWith('.ts')),
      outdir: dist,
      outbase: src,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Node 20.10+ takes `with { type: 'json' }`; esbuild drops attributes for targets it is unsure of.
      supported: { 'import-attributes': true },
      // Linked maps: stack traces name src/*.ts lines (the services run with --enable-source-maps).
      sourcemap: 'linked',
      sourcesContent: false,
      ...(existsSync(tsconfig) ? { tsconfig } : {}),
      write: false,
      logLevel: 'silent',
    });
    for (const output of result.outputFiles) {
      files++;
      if (writeIfChanged(output.path, output.contents)) written++;
    }
  }
  return { written, files };
}
