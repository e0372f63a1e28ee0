/**
 * A small dashboards-as-code builder: typed panels in, Grafana dashboard JSON (schemaVersion 39,
 * Grafana 10/11) out. Layout is computed (rows of panels, 24 columns) so dashboards stay readable
 * as code. Only what these dashboards use; no dependency.
 */

export const DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query (tables, stats). */
  readonly instant?: boolean;
}

export type PanelKind = 'timeseries' | 'stat' | 'table' | 'state-timeline' | 'bargauge';

export interface PanelSpec {
  readonly title: string;
  readonly kind: PanelKind;
  readonly queries: readonly Query[];
  readonly description?: string;
  readonly unit?: string;
  /** Width in grid columns (24 per row); default 12. */
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  readonly stack?: boolean;
  /** Value → text/colour mappings (state panels). */
  readonly mappings?: ReadonlyArray<{ value: string; text: string; color: string }>;
  /** Thresholds as [value, colour] from the lowest; the first value is the base. */
  readonly thresholds?: ReadonlyArray<readonly [number | null, string]>;
  /** Table options: merge the queries' results into one row per label set. */
  readonly mergeTable?: boolean;
  readonly overrides?: ReadonlyArray<Record<string, unknown>>;
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** Grafana's label_values(<metric selector>, <label>). */
  readonly metric: string;
  readonly labelName: string;
  readonly multi?: boolean;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables: readonly VariableSpec[];
  readonly rows: readonly RowSpec[];
  readonly source: string;
  /** Default time range start (Grafana syntax); default now-1h. */
  readonly timeFrom?: string;
}

type Json = Record<string, unknown>;

export function buildDashboard(spec: DashboardSpec): Json {
  let id = 1;
  let y = 0;
  const panels: Json[] = [];
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.height ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(buildPanel(p, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    description: `${spec.description} Generated from ${spec.source} by npm run monitoring:generate — do not edit.`,
    editable: false,
    graphTooltip: 1,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: 39,
    tags: [...spec.tags],
    templating: {
      list: spec.variables.map((v) => ({
        name: v.name,
        label: v.label,
        type: 'query',
        datasource: DATASOURCE,
        definition: `label_values(${v.metric}, ${v.labelName})`,
        query: { query: `label_values(${v.metric}, ${v.labelName})`, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
        refresh: 2,
        includeAll: true,
        multi: v.multi ?? true,
        allValue: '.*',
        current: { selected: true, text: ['All'], value: ['$__all'] },
        sort: 1,
      })),
    },
    time: { from: spec.timeFrom ?? 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: spec.title,
    uid: spec.uid,
    version: 1,
  };
}

function buildPanel(p: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }): Json {
  const thresholds = p.thresholds ?? [[null, 'green']];
  const defaults: Json = {
    unit: p.unit ?? 'short',
    ...(p.min !== undefined ? { min: p.min } : {}),
    ...(p.max !== undefined ? { max: p.max } : {}),
    thresholds: { mode: 'absolute', steps: thresholds.map(([value, color]) => ({ value, color })) },
    mappings: p.mappings
      ? [{ type: 'value', options: Object.fromEntries(p.mappings.map((m, index) => [m.value, { text: m.text, color: m.color, index }])) }]
      : [],
    color: { mode: p.mappings || p.thresholds ? 'thresholds' : 'palette-classic' },
    ...(p.kind === 'timeseries'
      ? {
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stack ? 30 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
          },
        }
      : {}),
  };
  const options: Json =
    p.kind === 'timeseries'
      ? { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } }
      : p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'auto' }
        : p.kind === 'state-timeline'
          ? { showValue: 'auto', mergeValues: true, rowHeight: 0.9, legend: { showLegend: true, displayMode: 'list', placement: 'bottom' } }
          : p.kind === 'bargauge'
            ? { displayMode: 'gradient', orientation: 'horizontal', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } }
            : { showHeader: true, cellHeight: 'sm' };
  return {
    id,
    type: p.kind,
    title: p.title,
    ...(p.description ? { description: p.description } : {}),
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults, overrides: p.overrides ?? [] },
    options,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: !(q.instant ?? p.kind === 'table'),
      instant: q.instant ?? p.kind === 'table',
      ...(p.kind === 'table' ? { format: 'table' } : {}),
    })),
    ...(p.kind === 'table' && p.mergeTable
      ? {
          transformations: [
            { id: 'merge', options: {} },
            { id: 'organize', options: { excludeByName: { Time: true } } },
          ],
        }
      : {}),
  };
}

/** Every PromQL expression of a built dashboard (panels and variables), for tests. */
export function dashboardQueries(dashboard: Json): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  for (const panel of dashboard.panels as Json[]) {
    for (const target of (panel.targets as Json[] | undefined) ?? []) out.push({ panel: String(panel.title), expr: String(target.expr) });
  }
  return out;
}

/** The metric selectors of label_values(...) variables, for tests. */
export function variableSelectors(dashboard: Json): string[] {
  return ((dashboard.templating as { list: Json[] }).list ?? []).map((v) => {
    const m = /^label_values\((.*),\s*[A-Za-z_]+\)$/.exec(String(v.definition));
    return m?.[1] ?? '';
  });
}
