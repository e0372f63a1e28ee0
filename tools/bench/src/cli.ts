import { parseArgs } from 'node:util';
import type { BenchRow } from './rows.js';

/** What `npm run bench -- …` asked for. */
export interface BenchArgs {
  help: boolean;
  quick: boolean;
  /** Suites to run, in registry order; every registered suite when `--suite` is not given. */
  suites: string[];
  /** Folder for `<timestamp>.json` and the suites' scratch files. */
  outDir: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function usage(known: readonly string[]): string {
  return `Usage: npm run bench -- [options]

Runs benchmark suites and prints each figure beside a reference measured in the same run, as a ratio,
with the goal from issue 11 and whether it was met; writes the same rows as JSON.

  --suite NAME[,NAME]   run only these suites (default: all). Known: ${known.join(', ')}
  --quick               short smoke run (figures are not comparable; for checking the bench works)
  --out DIR             where to write <timestamp>.json and scratch files (default: bench-results)
  -h, --help            this text; runs nothing

References some suites need (FastAPI + Pillow, nginx, wrk) are installed by tools/bench/prepare.sh
(as root; otherwise it names what is missing). A suite whose reference is missing fails, naming it.`;
}

export function parseBenchArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        suite: { type: 'string', multiple: true },
        quick: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const requested = (values.suite ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = requested.filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new UsageError(`unknown suite ${unknown.join(', ')} (known: ${known.join(', ')})`);
  if (values.suite && requested.length === 0) throw new UsageError('--suite needs at least one name');
  return {
    help: values.help ?? false,
    quick: values.quick ?? false,
    suites: requested.length > 0 ? known.filter((s) => requested.includes(s)) : [...known],
    outDir: values.out ?? 'bench-results',
  };
}

/** Three significant figures or so: 0.123, 12.3, 1234. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** The rows as a Markdown table (readable in a terminal, pasteable into the README). */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['suite', 'metric', 'ours', 'reference', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => [
    r.suite,
    r.metric,
    `${formatNumber(r.ours)} ${r.unit}`,
    `${formatNumber(r.reference)} ${r.unit} (${r.referenceName})`,
    `${r.ratio.toFixed(2)}x`,
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
