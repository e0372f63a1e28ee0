import type { BenchRow } from '../../src/rows.js';

/** A plain-text table of rows, for a terminal. */
export function formatRows(rows: readonly BenchRow[]): string {
  const header = ['metric', 'ours', 'reference', 'ratio', 'goal'];
  const lines = rows.map((r) => [
    `${r.suite}: ${r.metric}`,
    `${r.ours} ${r.unit}`,
    `${r.reference} ${r.unit} (${r.referenceName})`,
    `${r.ratio.toFixed(2)}x`,
    r.goal ? `${r.goal} ${r.met ? 'met' : 'NOT met'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
