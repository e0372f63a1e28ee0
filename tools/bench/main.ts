/**
 * `npm run bench`: every suite under tools/bench/suites, one table and one JSON file
 * (bench-results/<timestamp>.json, git-ignored). `npm run bench -- --help` for the options.
 * Loopback only; every suite bounds its own run time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { formatTable, parseBenchArgs, usage, UsageError } from './src/cli.js';
import type { BenchRow, Suite } from './src/rows.js';
import { footprint } from './suites/footprint.js';
import { gatewaySuite } from './suites/gateway.js';
import { httpOverhead } from './suites/http-overhead.js';
import { tracingSuite } from './suites/tracing.js';
import { uploads } from './suites/uploads.js';

/** One line per suite (and its import), run in this order. */
const SUITES: Record<string, Suite> = {
  uploads,
  gateway: gatewaySuite,
  footprint,
  'http-overhead': httpOverhead,
  tracing: tracingSuite,
};

const known = Object.keys(SUITES);
let args;
try {
  args = parseBenchArgs(process.argv.slice(2), known);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n\n${usage(known)}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${usage(known)}\n`);
  process.exit(0);
}

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const outDir = resolve(args.outDir);
const rows: BenchRow[] = [];
const failures: Array<{ suite: string; error: string }> = [];
for (const name of args.suites) {
  const workDir = join(outDir, `${stamp}-work`, name);
  mkdirSync(workDir, { recursive: true });
  process.stdout.write(`bench: ${name}${args.quick ? ' (quick)' : ''}…\n`);
  try {
    const suiteRows = await SUITES[name]!({ quick: args.quick, workDir });
    rows.push(...suiteRows);
    const notes = [...new Set(suiteRows.map((r) => r.notes).filter(Boolean))];
    process.stdout.write(`${formatTable(suiteRows)}\n${notes.map((n) => `  note: ${n}\n`).join('')}\n`);
  } catch (err) {
    // A suite that cannot run (a reference missing, a service that would not start) is reported, never skipped silently.
    failures.push({ suite: name, error: (err as Error).message });
    process.stderr.write(`bench: ${name} FAILED: ${(err as Error).message}\n`);
  }
}

const file = join(outDir, `${stamp}.json`);
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform };
writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), quick: args.quick, machine, suites: args.suites, rows, failures }, null, 2)}\n`);
process.stdout.write(`\nbench: all rows\n${formatTable(rows)}\n\nbench: wrote ${file}\n`);
if (failures.length > 0) {
  process.stderr.write(`bench: ${failures.length} suite(s) failed: ${failures.map((f) => f.suite).join(', ')}\n`);
  process.exit(1);
}
