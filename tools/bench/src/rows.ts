/**
 * One line of `npm run bench`'s report: a figure of ours beside a reference measured in the same run,
 * as a ratio. Every suite under tools/bench/suites returns these, and tools/bench/main.ts prints them as
 * a table and writes them as JSON. Shared so that every suite reports in one shape.
 */
export interface BenchRow {
  /** Suite that measured it, e.g. `uploads`, `gateway`, `footprint`, `http-overhead`. */
  suite: string;
  /** What was measured, e.g. `large JPEG uploads, 4 in flight`. */
  metric: string;
  /** Unit of `ours` and `reference`, e.g. `req/s`, `uploads/s`, `ms p99`, `MB`. */
  unit: string;
  ours: number;
  /** Name of the reference measured in the same run, e.g. `nginx reverse proxy`. */
  referenceName: string;
  reference: number;
  /** ours / reference, or reference / ours where lower is better (see `higherIsBetter`). */
  ratio: number;
  higherIsBetter: boolean;
  /** The goal the issue sets, as text (`>= 1.5x`), and whether this run met it. */
  goal?: string;
  met?: boolean;
  /** Anything a reader needs to trust the figure (connections, sample counts, what was excluded). */
  notes?: string;
}

/** Options every suite accepts. `quick` shortens runs for a smoke test; results are then not comparable. */
export interface SuiteOptions {
  quick: boolean;
  /** A folder the suite may write scratch files and its raw results to. */
  workDir: string;
}

export type Suite = (options: SuiteOptions) => Promise<BenchRow[]>;
