import { el } from '../dom.js';
import { legendName } from '../format.js';
import type { Panel, RenderContext, TargetResult } from '../types.js';
import { mapValue } from './mapping.js';

/** One row per series; runs of the same value become one coloured segment labelled by its mapping. */
export function renderStateTimeline(body: HTMLElement, panel: Panel, results: TargetResult[], ctx: RenderContext): void {
  const span = ctx.end - ctx.start;
  const table = el('div', { class: 'timeline' });
  for (const r of results) {
    for (const s of r.series) {
      const bar = el('div', { class: 'timeline-bar' });
      const values = s.values ?? [];
      let runStart = 0;
      for (let i = 1; i <= values.length; i++) {
        const first = values[runStart] as [number, string];
        const next = values[i];
        // A run ends at a value change or a gap of more than one step (no data there).
        if (next && next[1] === first[1] && next[0] - (values[i - 1] as [number, string])[0] <= ctx.step * 1.5) continue;
        const last = values[i - 1] as [number, string];
        const mapped = mapValue(panel.fieldConfig?.defaults, Number(first[1]));
        const seg = el(
          'span',
          {
            class: 'segment',
            title: `${mapped.text ?? first[1]} ${new Date(first[0] * 1000).toLocaleTimeString()}–${new Date(last[0] * 1000).toLocaleTimeString()}`,
          },
          mapped.text ?? first[1],
        );
        seg.style.left = `${((first[0] - ctx.start) / span) * 100}%`;
        seg.style.width = `${Math.max(0.3, ((last[0] - first[0] + ctx.step) / span) * 100)}%`;
        seg.style.backgroundColor = mapped.color;
        bar.append(seg);
        runStart = i;
      }
      table.append(
        el('div', { class: 'timeline-row' }, el('span', { class: 'timeline-label' }, legendName(r.target.legendFormat, s.metric, r.target.expr)), bar),
      );
    }
  }
  body.append(table);
}
