import { el } from '../dom.js';
import { formatValue, legendName } from '../format.js';
import type { Override, Panel, TargetResult } from '../types.js';
import { mapValue } from './mapping.js';

/** Instant-value panels: stat, bar gauge and table. */

const needsClusterNote = (r: TargetResult) => el('div', { class: 'needs-cluster' }, `needs a cluster: ${(r.target.clusterSources ?? []).join(', ')}`);

export function renderStat(body: HTMLElement, panel: Panel, results: TargetResult[]): void {
  const unit = panel.fieldConfig?.defaults?.unit;
  const grid = el('div', { class: 'stats' });
  for (const r of results) {
    if (r.series.length === 0 && r.target.clusterSources?.length) grid.append(needsClusterNote(r));
    for (const s of r.series) {
      const v = Number(s.value?.[1]);
      const box = el(
        'div',
        { class: 'stat' },
        el('div', { class: 'stat-value' }, mapValue(panel.fieldConfig?.defaults, v).text ?? formatValue(v, unit)),
        el('div', { class: 'stat-label' }, legendName(r.target.legendFormat, s.metric, r.target.expr)),
      );
      box.style.backgroundColor = mapValue(panel.fieldConfig?.defaults, v).color;
      grid.append(box);
    }
  }
  body.append(grid);
}

export function renderBarGauge(body: HTMLElement, panel: Panel, results: TargetResult[]): void {
  const defaults = panel.fieldConfig?.defaults;
  const rows = results.flatMap((r) => r.series.map((s) => ({ name: legendName(r.target.legendFormat, s.metric, r.target.expr), v: Number(s.value?.[1]) })));
  const max = defaults?.max ?? (defaults?.unit === 'percentunit' ? 1 : Math.max(1, ...rows.map((r) => r.v)));
  const list = el('div', { class: 'bars' });
  for (const row of rows) {
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${Math.min(100, Math.max(0, (row.v / max) * 100))}%`;
    fill.style.backgroundColor = mapValue(defaults, row.v).color;
    list.append(
      el(
        'div',
        { class: 'bar-row' },
        el('span', { class: 'bar-label' }, row.name),
        el('span', { class: 'bar' }, fill),
        el('span', { class: 'bar-value' }, formatValue(row.v, defaults?.unit, defaults?.decimals)),
      ),
    );
  }
  body.append(list);
}

function overrideFor(overrides: Override[] | undefined, column: string): { name: string; unit?: string; decimals?: number } {
  const props = overrides?.find((o) => o.matcher.id === 'byName' && o.matcher.options === column)?.properties ?? [];
  const get = (id: string) => props.find((p) => p.id === id)?.value;
  return {
    name: (get('displayName') as string | undefined) ?? column,
    unit: get('unit') as string | undefined,
    decimals: get('decimals') as number | undefined,
  };
}

/**
 * Grafana's table of instant vectors: one row per label set, a column per label, and one value
 * column — per query ("Value #A"…) when the panel merges several queries into one row per label set.
 */
export function renderTable(body: HTMLElement, panel: Panel, results: TargetResult[]): void {
  const several = results.length > 1;
  const rows = new Map<string, { labels: Record<string, string>; values: Record<string, number> }>();
  const labelNames = new Set<string>();
  for (const r of results) {
    for (const s of r.series) {
      const labels = Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== '__name__'));
      Object.keys(labels).forEach((k) => labelNames.add(k));
      const key = JSON.stringify(Object.entries(labels).sort());
      const row = rows.get(key) ?? { labels, values: {} };
      row.values[several ? `Value #${r.target.refId}` : 'Value'] = Number(s.value?.[1]);
      rows.set(key, row);
    }
  }
  const valueColumns = several ? results.map((r) => `Value #${r.target.refId}`) : ['Value'];
  const labels = [...labelNames].sort();
  const columns = valueColumns.map((c) => ({ key: c, ...overrideFor(panel.fieldConfig?.overrides, c) }));
  const head = el('tr', {}, ...labels.map((l) => el('th', {}, l)), ...columns.map((c) => el('th', {}, c.name === 'Value' ? 'value' : c.name)));
  const table = el('table', { class: 'table' }, el('thead', {}, head));
  const tbody = el('tbody');
  for (const row of [...rows.values()].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)))) {
    tbody.append(
      el(
        'tr',
        {},
        ...labels.map((l) => el('td', {}, row.labels[l] ?? '')),
        ...columns.map((c) => el('td', { class: 'num' }, formatValue(row.values[c.key], c.unit ?? panel.fieldConfig?.defaults?.unit, c.decimals))),
      ),
    );
  }
  table.append(tbody);
  body.append(table);
}
