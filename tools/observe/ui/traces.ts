import { getJson } from './api.js';
import { clear, el } from './dom.js';
import { seriesColor } from './format.js';

/** The local trace view: recent / slowest / with errors, and one trace as a waterfall. */

interface Summary {
  traceId: string;
  rootService: string;
  rootName: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  kind: string;
  startMs: number;
  endMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage?: string;
  attributes: Record<string, string | number | boolean>;
}

const ms = (v: number) => (v < 1 ? `${v.toFixed(2)} ms` : v < 1000 ? `${v.toFixed(1)} ms` : `${(v / 1000).toFixed(2)} s`);

export async function showTraceList(root: HTMLElement): Promise<void> {
  const order = new URLSearchParams(location.search).get('order') ?? 'recent';
  const traces = await getJson<Summary[]>(`/api/traces?order=${encodeURIComponent(order)}&limit=100`);
  document.title = 'Traces — observe';
  const tabs = el(
    'div',
    { class: 'tabs' },
    ...['recent', 'slowest', 'errors'].map((o) => el('a', { href: `/traces?order=${o}`, class: o === order ? 'active' : '' }, o)),
  );
  const table = el(
    'table',
    { class: 'table traces' },
    el('thead', {}, el('tr', {}, ...['trace', 'root', 'start', 'duration', 'spans', 'errors', 'services'].map((h) => el('th', {}, h)))),
  );
  const body = el('tbody');
  for (const t of traces) {
    body.append(
      el(
        'tr',
        { class: t.errorCount > 0 ? 'has-error' : '' },
        el('td', {}, el('a', { class: 'trace-link', href: `/traces/${t.traceId}` }, t.traceId)),
        el('td', {}, `${t.rootService}: ${t.rootName}`),
        el('td', {}, new Date(t.startMs).toLocaleTimeString()),
        el('td', { class: 'num' }, ms(t.durationMs)),
        el('td', { class: 'num' }, String(t.spanCount)),
        el('td', { class: 'num' }, String(t.errorCount)),
        el('td', {}, t.services.join(', ')),
      ),
    );
  }
  table.append(body);
  clear(root);
  root.append(
    el('h1', {}, 'Traces'),
    tabs,
    traces.length > 0
      ? table
      : el(
          'p',
          { class: 'no-data' },
          'No traces received yet. The services export to OTEL_EXPORTER_OTLP_ENDPOINT; npm run observe receives on http://127.0.0.1:4318.',
        ),
  );
}

/** Depth-first order under each parent, so children sit under their parent, indented. */
function ordered(spans: Span[]): Array<{ span: Span; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: Array<{ span: Span; depth: number }> = [];
  const walk = (parent: string, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span: s, depth });
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

export async function showTrace(root: HTMLElement, traceId: string): Promise<void> {
  clear(root);
  let spans: Span[];
  try {
    spans = await getJson<Span[]>(`/api/traces/${encodeURIComponent(traceId)}`);
  } catch (err) {
    root.append(el('h1', {}, `Trace ${traceId}`), el('p', { class: 'error' }, (err as Error).message));
    return;
  }
  document.title = `Trace ${traceId} — observe`;
  const start = Math.min(...spans.map((s) => s.startMs));
  const total = Math.max(...spans.map((s) => s.endMs)) - start || 1;
  const services = [...new Set(spans.map((s) => s.service))].sort();
  const details = el('pre', { class: 'span-details' }, 'Click a span for its attributes.');
  const waterfall = el('div', { class: 'waterfall' });
  for (const { span, depth } of ordered(spans)) {
    const bar = el('span', { class: 'span-bar' });
    bar.style.left = `${((span.startMs - start) / total) * 100}%`;
    bar.style.width = `${Math.max(0.2, ((span.endMs - span.startMs) / total) * 100)}%`;
    bar.style.backgroundColor = seriesColor(services.indexOf(span.service));
    const label = el('span', { class: 'span-label' }, `${span.service}: ${span.name}`);
    label.style.paddingLeft = `${depth * 16}px`;
    const row = el(
      'div',
      { class: `span-row${span.status === 'error' ? ' error-span' : ''}`, 'data-span-id': span.spanId, tabindex: '0' },
      label,
      el('span', { class: 'span-track' }, bar),
      el('span', { class: 'span-duration' }, ms(span.endMs - span.startMs)),
    );
    row.addEventListener('click', () => {
      details.textContent = JSON.stringify(
        {
          service: span.service,
          name: span.name,
          kind: span.kind,
          status: span.status,
          ...(span.statusMessage ? { statusMessage: span.statusMessage } : {}),
          spanId: span.spanId,
          parentSpanId: span.parentSpanId,
          durationMs: span.endMs - span.startMs,
          attributes: span.attributes,
        },
        null,
        2,
      );
    });
    waterfall.append(row);
  }
  const errors = spans.filter((s) => s.status === 'error').length;
  root.append(
    el('h1', {}, `Trace ${traceId}`),
    el('p', {}, `${spans.length} spans, ${ms(total)}, services ${services.join(', ')}${errors > 0 ? `, ${errors} with errors` : ''}`),
    waterfall,
    details,
  );
}
