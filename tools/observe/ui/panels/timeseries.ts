import uPlot from 'uplot';
import { el } from '../dom.js';
import { formatValue, legendName, seriesColor } from '../format.js';
import type { Panel, RenderContext, TargetResult } from '../types.js';
import { stackSeries } from './stack.js';

/**
 * Time series with uPlot. Prometheus returns every series of a range query on one step grid
 * (start + k·step), so the grid is the shared x axis and a missing point stays a gap. Exemplars
 * (trace ids on latency histograms) are drawn as diamonds over the lines; a click near one, or
 * its link under the chart, opens /traces/<trace id>.
 */

const TRACE_ID_LABELS = ['trace_id', 'traceID', 'traceId'];

export function renderTimeseries(body: HTMLElement, panel: Panel, results: TargetResult[], ctx: RenderContext): void {
  const unit = panel.fieldConfig?.defaults?.unit ?? 'short';
  const xs: number[] = [];
  for (let t = ctx.start; t <= ctx.end + 1e-6; t += ctx.step) xs.push(t);
  const data: Array<Array<number | null>> = [xs];
  const series: uPlot.Series[] = [{}];
  for (const r of results) {
    for (const s of r.series) {
      const ys: Array<number | null> = xs.map(() => null);
      for (const [t, v] of s.values ?? []) {
        const i = Math.round((t - ctx.start) / ctx.step);
        // NaN (a quantile of no requests) and ±Inf (one beyond the last bucket) are gaps, as in Grafana;
        // an infinite value would also stretch the y axis to nothing.
        if (i >= 0 && i < ys.length && Number.isFinite(Number(v))) ys[i] = Number(v);
      }
      data.push(ys);
      const color = seriesColor(series.length - 1);
      series.push({
        label: legendName(r.target.legendFormat, s.metric, r.target.expr),
        stroke: color,
        fill: `${color}1a`,
        width: 1,
        spanGaps: false,
        value: (_u, v) => formatValue(v, unit),
      });
    }
  }
  // Stacked panels draw cumulative lines, filled band by band; the legend shows each series' own value.
  const own = data.slice(1);
  const stacked = panel.fieldConfig?.defaults?.custom?.stacking?.mode === 'normal' && own.length > 1;
  if (stacked) {
    stackSeries(own).forEach((ys, i) => (data[i + 1] = ys));
    series.forEach((s, i) => {
      if (i > 0) s.value = (_u, _v, _si, idx) => formatValue(idx === null ? null : (own[i - 1]?.[idx] ?? null), unit);
    });
  }
  const bands: uPlot.Band[] = stacked ? own.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : [];
  const exemplars = results
    .flatMap((r) => r.exemplars)
    .flatMap((e) => {
      const traceId = TRACE_ID_LABELS.map((k) => e.labels[k]).find(Boolean);
      return traceId ? [{ traceId, t: e.timestamp, v: Number(e.value) }] : [];
    });

  const chart = el('div', { class: 'chart' });
  body.append(chart);
  const width = Math.max(200, body.clientWidth - 8);
  const height = Math.max(80, body.clientHeight - 70);
  const opts: uPlot.Options = {
    width,
    height,
    series,
    bands,
    legend: { show: true, live: true },
    cursor: { points: { show: false } },
    axes: [
      { stroke: '#aaa', grid: { stroke: '#2a2d33' } },
      { stroke: '#aaa', grid: { stroke: '#2a2d33' }, size: 70, values: (_u, vals) => vals.map((v) => formatValue(v, unit)) },
    ],
    scales: {
      y:
        panel.fieldConfig?.defaults?.min !== undefined
          ? { range: (_u, lo, hi) => [panel.fieldConfig?.defaults?.min ?? lo, panel.fieldConfig?.defaults?.max ?? hi] }
          : {},
    },
    hooks: {
      draw: [
        (u) => {
          const c = u.ctx;
          c.save();
          c.fillStyle = '#f5f5f5';
          for (const e of exemplars) {
            const x = u.valToPos(e.t, 'x', true);
            const y = u.valToPos(e.v, 'y', true);
            c.beginPath();
            c.moveTo(x, y - 5);
            c.lineTo(x + 5, y);
            c.lineTo(x, y + 5);
            c.lineTo(x - 5, y);
            c.fill();
          }
          c.restore();
        },
      ],
    },
  };
  const plot = new uPlot(opts, data as uPlot.AlignedData, chart);
  if (exemplars.length > 0) {
    plot.over.addEventListener('click', (ev) => {
      const near = exemplars.find((e) => Math.abs(plot.valToPos(e.t, 'x') - ev.offsetX) < 8 && Math.abs(plot.valToPos(e.v, 'y') - ev.offsetY) < 8);
      if (near) location.assign(`/traces/${near.traceId}`);
    });
    const list = el('div', { class: 'exemplars' }, 'exemplars: ');
    for (const e of exemplars.slice(-10))
      list.append(
        el(
          'a',
          { class: 'exemplar', href: `/traces/${e.traceId}`, title: `${formatValue(e.v, unit)} at ${new Date(e.t * 1000).toLocaleTimeString()}` },
          e.traceId.slice(0, 8),
        ),
        ' ',
      );
    body.append(list);
  }
}
