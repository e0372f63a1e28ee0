import type { Journal } from '../types.js';

/** The report's "Failed requests and their traces" section (Markdown and HTML). */

export const TRACES_HEADING = 'Failed requests and their traces';

function note(journal: Journal): string | undefined {
  const traces = journal.failedRequestTraces;
  if (!traces) return undefined;
  if (traces.length === 0) return 'No request failed while the fault was on.';
  if (traces.every((t) => t.spanCount === 0))
    return 'No spans arrived for these requests: the services export none (OTEL_EXPORTER_OTLP_ENDPOINT unset, or the SDK not installed), or they never reached the gateway.';
  return undefined;
}

const traceRef = (journal: Journal, id: string) => (journal.traceViewUrl ? `${journal.traceViewUrl}/${id}` : id);
const clock = (ms: number) => `${Math.round(ms / 1000)} s`;

export function tracesMarkdown(journal: Journal): string[] {
  if (!journal.failedRequestTraces) return [];
  const out = [`## ${TRACES_HEADING}`, ''];
  const n = note(journal);
  if (n) out.push(n, '');
  if (journal.failedRequestTraces.length > 0) {
    out.push('| t | request | status | failing hop | path | trace |', '| --- | --- | --- | --- | --- | --- |');
    for (const t of journal.failedRequestTraces)
      out.push(
        `| ${clock(t.t)} | ${t.route} | ${t.status || 'no answer'} | ${(t.failingHop ?? '—').replace(/\|/g, '\\|')} | ${t.path.join(' → ') || '—'} | ${traceRef(journal, t.traceId)} |`,
      );
    out.push('');
  }
  return out;
}

export function tracesHtml(journal: Journal, esc: (s: string) => string): string {
  if (!journal.failedRequestTraces) return '';
  const n = note(journal);
  const rows = journal.failedRequestTraces
    .map((t) => {
      const ref = traceRef(journal, t.traceId);
      const link = journal.traceViewUrl ? `<a href="${esc(ref)}"><code>${esc(t.traceId)}</code></a>` : `<code>${esc(t.traceId)}</code>`;
      return `<tr><td>${clock(t.t)}</td><td>${esc(t.route)}</td><td>${t.status || 'no answer'}</td><td>${esc(t.failingHop ?? '—')}</td><td>${esc(t.path.join(' → ') || '—')}</td><td>${link}</td></tr>`;
    })
    .join('');
  return `<h2>${TRACES_HEADING}</h2>\n${n ? `<p>${esc(n)}</p>` : ''}${rows ? `<table><tr><th>t</th><th>Request</th><th>Status</th><th>Failing hop</th><th>Path</th><th>Trace</th></tr>${rows}</table>` : ''}`;
}
