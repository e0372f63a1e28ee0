/**
 * Grafana's "normal" stacking: each series drawn on top of the ones before it. A missing point
 * adds nothing to the stack and stays a gap in its own series.
 */
export function stackSeries(series: ReadonlyArray<ReadonlyArray<number | null>>): Array<Array<number | null>> {
  const base = (series[0] ?? []).map(() => 0);
  return series.map((ys) =>
    ys.map((v, j) => {
      if (v === null) return null;
      base[j] = (base[j] as number) + v;
      return base[j] as number;
    }),
  );
}
