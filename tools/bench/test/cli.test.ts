import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { formatNumber, formatTable, parseBenchArgs, usage, UsageError } from '../src/cli.js';
import type { BenchRow } from '../src/rows.js';

const KNOWN = ['uploads', 'gateway', 'http-overhead'];
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm run bench: arguments', () => {
  it('runs every registered suite by default, full length, into bench-results', () => {
    assert.deepEqual(parseBenchArgs([], KNOWN), { help: false, quick: false, suites: KNOWN, outDir: 'bench-results' });
  });

  it('selects suites with --suite (comma list or repeated), keeping registry order', () => {
    assert.deepEqual(parseBenchArgs(['--suite', 'http-overhead,uploads'], KNOWN).suites, ['uploads', 'http-overhead']);
    assert.deepEqual(parseBenchArgs(['--suite', 'gateway', '--suite', 'uploads'], KNOWN).suites, ['uploads', 'gateway']);
  });

  it('takes --quick, --out and -h', () => {
    const args = parseBenchArgs(['--quick', '--out', '/tmp/x', '-h'], KNOWN);
    assert.equal(args.quick, true);
    assert.equal(args.outDir, '/tmp/x');
    assert.equal(args.help, true);
  });

  it('refuses an unknown suite, naming the known ones', () => {
    assert.throws(
      () => parseBenchArgs(['--suite', 'uploads,footprnt'], KNOWN),
      (err: Error) => err instanceof UsageError && /unknown suite footprnt \(known: uploads, gateway, http-overhead\)/.test(err.message),
    );
  });

  it('refuses unknown options, positionals and an empty --suite', () => {
    assert.throws(() => parseBenchArgs(['--fast'], KNOWN), UsageError);
    assert.throws(() => parseBenchArgs(['uploads'], KNOWN), UsageError);
    assert.throws(() => parseBenchArgs(['--suite', ','], KNOWN), /at least one name/);
  });

  it('usage lists every known suite', () => {
    assert.match(usage(KNOWN), /Known: uploads, gateway, http-overhead/);
  });
});

describe('npm run bench: table', () => {
  const row = (over: Partial<BenchRow>): BenchRow => ({
    suite: 'uploads',
    metric: 'large JPEG: uploads through the gateway',
    unit: 'uploads/s',
    ours: 36.04,
    referenceName: 'FastAPI + Pillow',
    reference: 23.7,
    ratio: 36.04 / 23.7,
    higherIsBetter: true,
    ...over,
  });

  it('prints one aligned Markdown row per figure with unit, reference name, ratio, goal and verdict', () => {
    const table = formatTable([
      row({ goal: '>= 1.5x', met: true }),
      row({ metric: 'p99', unit: 'ms', ours: 4.2, reference: 120, ratio: 120 / 4.2, higherIsBetter: false, goal: '< 50 ms', met: false }),
      row({ suite: 'http-overhead', metric: 'GET', unit: 'req/s', ours: 1234.5, reference: 2000, ratio: 0.617 }),
    ]);
    const lines = table.split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /^\| suite +\| metric +\| ours +\| reference +\| ratio +\| goal +\| met +\|$/);
    assert.match(lines[1]!, /^\|-+(\|-+){6}\|$/);
    assert.match(lines[2]!, /\| 36\.0 uploads\/s +\| 23\.7 uploads\/s \(FastAPI \+ Pillow\) +\| 1\.52x +\| >= 1\.5x +\| yes +\|$/);
    assert.match(lines[3]!, /\| 4\.20 ms +\| 120 ms \(FastAPI \+ Pillow\) +\| 28\.57x +\| < 50 ms +\| NO +\|$/);
    assert.match(lines[4]!, /\| 1235 req\/s +\| 2000 req\/s \(FastAPI \+ Pillow\) +\| 0\.62x +\| +\| +\|$/);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1, 'columns aligned');
  });

  it('formats numbers to about three significant figures', () => {
    assert.deepEqual([0.01234, 1.234, 12.34, 123.4, 12345].map(formatNumber), ['0.012', '1.23', '12.3', '123', '12345']);
  });
});

describe('npm run bench: command line', () => {
  it('--help prints usage, exits 0 and runs nothing (no suite output, no results file)', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-help-'));
    rmSync(out, { recursive: true });
    try {
      const run = spawnSync('npm', ['run', '--silent', 'bench', '--', '--help', '--out', out], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^Usage: npm run bench -- \[options\]/);
      assert.match(run.stdout, /Known: uploads, gateway, footprint, http-overhead/);
      assert.doesNotMatch(run.stdout, /bench: (uploads|http-overhead)/);
      assert.equal(existsSync(out), false, 'nothing written');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('an unknown suite exits 2 with the usage, running nothing', () => {
    const run = spawnSync('npm', ['run', '--silent', 'bench', '--', '--suite', 'nope'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown suite nope/);
    assert.match(run.stderr, /Usage:/);
  });
});
