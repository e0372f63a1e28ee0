import type { Journal } from './types.js';

/** The final table of expectations, plain text, for the terminal. */
export function expectationTable(journal: Journal): string {
  const rows = journal.expectations.map((e) => [e.status === 'passed' ? 'PASS' : e.status === 'not-run' ? '-' : 'FAIL', e.id, e.description, e.observed]);
  const header = ['', 'id', 'expectation', 'observed'];
  const widths = [4, Math.max(2, ...rows.map((r) => (r[1] as string).length)), Math.min(60, Math.max(11, ...rows.map((r) => (r[2] as string).length)))];
  const cut = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (r: string[]) =>
    `${cut(r[0] ?? '', widths[0] as number)}  ${cut(r[1] ?? '', widths[1] as number)}  ${cut(r[2] ?? '', widths[2] as number)}  ${r[3] ?? ''}`;
  return [line(header), line(header.map((_, i) => '-'.repeat(i < 3 ? (widths[i] as number) : 8))), ...rows.map(line)].join('\n');
}

/** 0 only when every requested drill ran and every expectation held. */
export function exitCodeFor(journals: readonly Journal[], requested: number): number {
  return journals.length === requested && journals.every((j) => j.result === 'passed') ? 0 : 1;
}
