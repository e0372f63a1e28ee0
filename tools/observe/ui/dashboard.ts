import { getJson, queryExemplars, queryInstant, queryRange } from './api.js';
import { clear, el } from './dom.js';
import { hasFiniteValues } from './format.js';
import { renderStateTimeline } from './panels/state-timeline.js';
import { renderTimeseries } from './panels/timeseries.js';
import { renderBarGauge, renderStat, renderTable } from './panels/values.js';
import { durationSeconds, rateInterval, RANGES, REFRESHES, resolveTime, stepFor } from './time.js';
import type { Dashboard, Panel, RenderContext, TargetResult } from './types.js';
import { interpolate, loadVariables, variableControls, type VariableState } from './variables.js';

/**
 * One dashboard: time range, refresh and variables from the URL (Grafana's from/to/refresh/var-*
 * parameters, so a Grafana link's query string works here), panels on Grafana's 24-column grid.
 * Each panel carries data-state (loading, data, cluster, empty, error) for people and for the
 * Chromium test.
 */

const RANGE_PANELS = new Set(['timeseries', 'state-timeline']);

async function runPanel(panel: Panel, states: VariableState[], ctx: RenderContext, scrapeS: number): Promise<TargetResult[]> {
  const builtins = { $__rate_interval: `${rateInterval(ctx.step, scrapeS)}s`, $__interval: `${ctx.step}s`, $__range: `${Math.round(ctx.end - ctx.start)}s` };
  return Promise.all(
    (panel.targets ?? []).map(async (target) => {
      const expr = interpolate(target.expr, states, builtins);
      const ranged = RANGE_PANELS.has(panel.type) && !target.instant;
      const series = ranged ? await queryRange(expr, ctx.start, ctx.end, ctx.step) : await queryInstant(expr, ctx.end);
      // Exemplars only where they mean something: latency panels over histogram buckets.
      const exemplars = panel.type === 'timeseries' && expr.includes('_bucket') ? await queryExemplars(expr, ctx.start, ctx.end).catch(() => []) : [];
      return { target, series, exemplars };
    }),
  );
}

function draw(body: HTMLElement, panel: Panel, results: TargetResult[], ctx: RenderContext): void {
  if (panel.type === 'timeseries') renderTimeseries(body, panel, results, ctx);
  else if (panel.type === 'state-timeline') renderStateTimeline(body, panel, results, ctx);
  else if (panel.type === 'stat') renderStat(body, panel, results);
  else if (panel.type === 'bargauge') renderBarGauge(body, panel, results);
  else if (panel.type === 'table') renderTable(body, panel, results);
  else body.append(el('div', { class: 'note' }, `panel type ${panel.type} is not drawn by this viewer`));
}

async function refreshPanel(section: HTMLElement, panel: Panel, states: VariableState[], ctx: RenderContext, scrapeS: number): Promise<void> {
  const body = section.querySelector('.body') as HTMLElement;
  try {
    const results = await runPanel(panel, states, ctx, scrapeS);
    clear(body);
    if (!results.some((r) => hasFiniteValues(r.series))) {
      // Empty because its metrics exist only in a cluster: say so rather than draw an empty chart.
      const cluster = results.every((r) => (r.target.clusterSources ?? []).length > 0);
      const sources = [...new Set(results.flatMap((r) => r.target.clusterSources ?? []))].join(', ');
      section.dataset.state = cluster ? 'cluster' : 'empty';
      body.append(
        el(
          'div',
          { class: cluster ? 'needs-cluster' : 'no-data' },
          cluster ? `needs a cluster: these metrics come from ${sources}, which only a Kubernetes cluster runs` : 'No data',
        ),
      );
      return;
    }
    section.dataset.state = 'data';
    draw(body, panel, results, ctx);
  } catch (err) {
    clear(body);
    section.dataset.state = 'error';
    body.append(el('div', { class: 'error' }, `query error: ${(err as Error).message}`));
  }
}

function select(name: string, options: string[], value: string, label: (o: string) => string, onChange: (v: string) => void): HTMLSelectElement {
  const s = el('select', { name }, ...options.map((o) => el('option', { value: o }, label(o))));
  s.value = options.includes(value) ? value : (options[0] as string);
  s.addEventListener('change', () => onChange(s.value));
  return s;
}

export async function showDashboard(root: HTMLElement, uid: string): Promise<void> {
  const [dashboard, config] = await Promise.all([
    getJson<Dashboard>(`/api/dashboards/${encodeURIComponent(uid)}`),
    getJson<{ scrapeIntervalSeconds: number }>('/api/config'),
  ]);
  const params = new URLSearchParams(location.search);
  const from = params.get('from') ?? dashboard.time?.from ?? 'now-1h';
  const to = params.get('to') ?? dashboard.time?.to ?? 'now';
  const refresh = params.get('refresh') ?? dashboard.refresh ?? 'off';
  const navigate = (change: (p: URLSearchParams) => void) => {
    change(params);
    location.search = params.toString();
  };
  document.title = `${dashboard.title} — observe`;
  const now = Date.now() / 1000;
  const states = await loadVariables(dashboard.templating?.list ?? [], params, resolveTime(from, now), resolveTime(to, now));

  const controls = el(
    'div',
    { class: 'controls' },
    variableControls(states, (name, selected) => navigate((p) => (p.delete(`var-${name}`), selected.forEach((v) => p.append(`var-${name}`, v))))),
    el(
      'label',
      {},
      'range ',
      select(
        'from',
        RANGES.includes(from) ? RANGES : [from, ...RANGES],
        from,
        (o) => o.replace('now-', 'last '),
        (v) => navigate((p) => (p.set('from', v), p.set('to', 'now'))),
      ),
    ),
    el(
      'label',
      {},
      'refresh ',
      select(
        'refresh',
        REFRESHES,
        refresh,
        (o) => o,
        (v) => navigate((p) => p.set('refresh', v)),
      ),
    ),
  );
  const grid = el('div', { class: 'grid' });
  clear(root);
  root.append(el('h1', {}, dashboard.title), controls, grid);

  const sections: Array<[HTMLElement, Panel]> = [];
  for (const panel of dashboard.panels) {
    const place = (node: HTMLElement) => {
      node.style.gridColumn = `${panel.gridPos.x + 1} / span ${panel.gridPos.w}`;
      node.style.gridRow = `${panel.gridPos.y + 1} / span ${panel.gridPos.h}`;
      grid.append(node);
    };
    if (panel.type === 'row') {
      place(el('h2', { class: 'row' }, panel.title));
      continue;
    }
    const section = el(
      'section',
      { class: 'panel', 'data-state': 'loading', 'data-title': panel.title },
      el('h3', { title: panel.description ?? '' }, panel.title),
      el('div', { class: 'body' }),
    );
    place(section);
    sections.push([section, panel]);
  }

  const update = async () => {
    const t = Date.now() / 1000;
    const start = resolveTime(from, t);
    const end = resolveTime(to, t);
    const step = stepFor(end - start, config.scrapeIntervalSeconds);
    // Align to the step so successive refreshes query the same grid (stable charts, cache-friendly).
    const ctx = { start: Math.floor(start / step) * step, end: Math.floor(end / step) * step, step };
    await Promise.all(sections.map(([section, panel]) => refreshPanel(section, panel, states, ctx, config.scrapeIntervalSeconds)));
  };
  await update();
  const every = durationSeconds(refresh);
  if (every > 0) setInterval(() => void update(), every * 1000);
}
