import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { budgetLines } from '../budget.js';
import { fmtMs } from '../format.js';
import { describeSummary, summarize } from '../traffic.js';
import type { Journal } from '../types.js';
import { alertChart, latencyChart, queryChart, successChart } from './charts.js';
import { tracesHtml, tracesMarkdown } from './traces-section.js';

/**
 * The report has the seed's four parts — logs, events, Prometheus queries, alerts — plus the
 * expectations table, and comes as Markdown (for a PR or an incident doc) and as one
 * self-contained HTML page (inline CSS and SVG; no script, no external asset).
 */

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const mark = (status: string) => (status === 'passed' ? '✅ pass' : status === 'not-run' ? '— not run' : '❌ fail');

function lastValue(points: Journal['queries'][number]['points']): string {
  const p = [...points].reverse().find((x) => x.value !== null);
  return p ? `${round(p.value as number)} (at ${Math.round(p.t / 1000)} s)` : 'no data';
}

function peakValue(points: Journal['queries'][number]['points']): string {
  const values = points.filter((x) => x.value !== null);
  if (values.length === 0) return 'no data';
  const peak = values.reduce((a, b) => ((b.value as number) > (a.value as number) ? b : a));
  return `${round(peak.value as number)} (at ${Math.round(peak.t / 1000)} s)`;
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/0+$/, '');
}

function phaseTraffic(journal: Journal): Array<[string, string]> {
  const phases = ['steady-state', 'observe', 'recover'] as const;
  return phases.map((p) => [p, describeSummary(summarize(journal.traffic.filter((s) => s.phase === p || (p === 'observe' && s.phase === 'inject'))))]);
}

export function toMarkdown(journal: Journal): string {
  const out: string[] = [];
  out.push(`# Drill report: ${journal.title} (\`${journal.scenario}\`, ${journal.target})`);
  out.push('');
  out.push(`**Result: ${journal.result.toUpperCase()}**${journal.reason ? ` — ${journal.reason}` : ''}`);
  out.push('');
  out.push(journal.summary);
  out.push('');
  out.push(`- Started: ${journal.startedAt}, finished: ${journal.finishedAt}`);
  if (journal.timeToDetectMs !== undefined) out.push(`- Time to detect (injection → alert active in Alertmanager): **${fmtMs(journal.timeToDetectMs)}**`);
  if (journal.timeToRecoverMs !== undefined) out.push(`- Time to recover (rollback → steady state): **${fmtMs(journal.timeToRecoverMs)}**`);
  for (const [k, v] of Object.entries(journal.environment)) out.push(`- ${k}: \`${v}\``);
  out.push('');
  out.push('## Expectations');
  out.push('');
  out.push('| | Expectation | Check | Bound | Observed |');
  out.push('|---|---|---|---|---|');
  for (const e of journal.expectations)
    out.push(`| ${mark(e.status)} | ${mdCell(e.description)} | ${mdCell(e.check)} | ${mdCell(e.bound ?? '')} | ${mdCell(e.observed)} |`);
  out.push('');
  out.push('Why each expectation holds:');
  out.push('');
  for (const e of journal.expectations) out.push(`- **${e.id}** — ${e.why}`);
  out.push('');
  out.push('## Phases');
  out.push('');
  out.push('| Phase | From | To | Status | Note |');
  out.push('|---|---|---|---|---|');
  for (const p of journal.phases)
    out.push(
      `| ${p.name} | ${Math.round(p.t0 / 1000)} s | ${p.t1 === undefined ? '' : `${Math.round(p.t1 / 1000)} s`} | ${p.status} | ${mdCell(p.note ?? '')} |`,
    );
  out.push('');
  out.push('## User-visible behaviour (synthetic traffic)');
  out.push('');
  for (const [phase, line] of phaseTraffic(journal)) out.push(`- ${phase}: ${line}`);
  out.push('');
  out.push('## Events');
  out.push('');
  out.push('| t | Kind | Event |');
  out.push('|---|---|---|');
  for (const e of journal.events) out.push(`| ${Math.round(e.t / 1000)} s | ${e.kind} | ${mdCell(e.message)} |`);
  out.push('');
  out.push('Actions as run:');
  out.push('');
  for (const a of journal.actions) {
    out.push(
      `- [${a.phase}] ${a.ok ? '✔' : '✘'} ${a.description}${a.command ? ` — \`${a.command}\`` : ''}${a.output ? `\n  \`\`\`\n  ${a.output.split('\n').slice(0, 6).join('\n  ')}\n  \`\`\`` : ''}`,
    );
  }
  out.push('');
  out.push('## Prometheus queries');
  out.push('');
  out.push('| Name | PromQL | Peak | Last |');
  out.push('|---|---|---|---|');
  for (const q of journal.queries) out.push(`| ${mdCell(q.name)} | \`${mdCell(q.promql)}\` | ${peakValue(q.points)} | ${lastValue(q.points)} |`);
  out.push('');
  out.push('## Alerts as delivered');
  out.push('');
  if (journal.notifications.length === 0) out.push('No notification was read back (none arrived, or the target cannot read Slack).');
  for (const n of journal.notifications) {
    out.push(`### ${n.status} at ${Math.round(n.t / 1000)} s (${n.receivedAt})${n.channel ? ` to ${n.channel}` : ''}`);
    out.push('');
    out.push('```');
    out.push(n.text);
    out.push('```');
    out.push('');
  }
  if (journal.budget) {
    out.push('## Error budget');
    out.push('');
    for (const line of budgetLines(journal.budget)) out.push(`- ${line}`);
    out.push('');
  }
  out.push(...tracesMarkdown(journal));
  out.push('## Logs (excerpt)');
  out.push('');
  if (journal.console)
    out.push(`The console showed service errors as counts per class; all ${journal.console.length} console lines are in journal.json (\`console\`).`, '');
  if (journal.logs.length === 0) out.push('No log lines were collected.');
  for (const l of journal.logs) {
    out.push(`### ${l.source}`);
    out.push('');
    out.push('```');
    out.push(...l.lines.slice(-40));
    out.push('```');
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.pass{color:#1e8449;font-weight:600}.fail{color:#c0392b;font-weight:600}
.result{font-size:18px;padding:8px 12px;border-radius:4px;display:inline-block}
.result.passed{background:#e9f7ef;color:#1e8449}.result.failed,.result.aborted,.result.not-started{background:#fdedec;color:#c0392b}.result.planned{background:#eef}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap}code{font-size:12px}
figure{margin:12px 0}figcaption{font-weight:600;font-size:13px;margin-bottom:2px}`;

export function toHtml(journal: Journal): string {
  const rows = (cells: string[][]) => cells.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  const cls = (s: string) => (s === 'passed' ? 'pass' : 'fail');
  const charts = [successChart(journal), latencyChart(journal), alertChart(journal), ...journal.queries.map((_, i) => queryChart(journal, i))]
    .filter(Boolean)
    .join('\n');
  const facts = [
    `Started ${esc(journal.startedAt)}, finished ${esc(journal.finishedAt)}`,
    ...(journal.timeToDetectMs !== undefined ? [`Time to detect: <b>${fmtMs(journal.timeToDetectMs)}</b>`] : []),
    ...(journal.timeToRecoverMs !== undefined ? [`Time to recover: <b>${fmtMs(journal.timeToRecoverMs)}</b>`] : []),
    ...Object.entries(journal.environment).map(([k, v]) => `${esc(k)}: <code>${esc(v)}</code>`),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Drill ${esc(journal.scenario)} (${esc(journal.target)}): ${esc(journal.result)}</title>
<style>${CSS}</style></head><body>
<h1>Drill report: ${esc(journal.title)} <small>(<code>${esc(journal.scenario)}</code>, ${esc(journal.target)})</small></h1>
<p class="result ${esc(journal.result)}">${esc(journal.result.toUpperCase())}${journal.reason ? ` — ${esc(journal.reason)}` : ''}</p>
<p>${esc(journal.summary)}</p>
<ul>${facts.map((f) => `<li>${f}</li>`).join('')}</ul>
<h2>Expectations</h2>
<table><tr><th></th><th>Expectation</th><th>Check</th><th>Bound</th><th>Observed</th></tr>
${rows(journal.expectations.map((e) => [`<span class="${cls(e.status)}">${e.status === 'passed' ? 'PASS' : e.status === 'not-run' ? '—' : 'FAIL'}</span>`, `${esc(e.description)}<br><small>${esc(e.why)}</small>`, esc(e.check), esc(e.bound ?? ''), esc(e.observed)]))}</table>
<h2>Time line</h2>
${charts}
<h2>Phases</h2>
<table><tr><th>Phase</th><th>From</th><th>To</th><th>Status</th><th>Note</th></tr>
${rows(journal.phases.map((p) => [esc(p.name), `${Math.round(p.t0 / 1000)} s`, p.t1 === undefined ? '' : `${Math.round(p.t1 / 1000)} s`, esc(p.status), esc(p.note ?? '')]))}</table>
<h2>User-visible behaviour</h2>
<ul>${phaseTraffic(journal)
    .map(([p, l]) => `<li>${esc(p)}: ${esc(l)}</li>`)
    .join('')}</ul>
<h2>Events</h2>
<table><tr><th>t</th><th>Kind</th><th>Event</th></tr>
${rows(journal.events.map((e) => [`${Math.round(e.t / 1000)} s`, esc(e.kind), esc(e.message)]))}</table>
<h3>Actions as run</h3>
<table><tr><th>Phase</th><th></th><th>Action</th><th>Command</th><th>Output</th></tr>
${rows(journal.actions.map((a) => [esc(a.phase), a.ok ? 'ok' : '<span class="fail">failed</span>', esc(a.description), a.command ? `<code>${esc(a.command)}</code>` : '', a.output ? `<pre>${esc(a.output.split('\n').slice(0, 8).join('\n'))}</pre>` : '']))}</table>
<h2>Prometheus queries</h2>
<table><tr><th>Name</th><th>PromQL</th><th>Peak</th><th>Last</th></tr>
${rows(journal.queries.map((q) => [esc(q.name), `<code>${esc(q.promql)}</code>`, esc(peakValue(q.points)), esc(lastValue(q.points))]))}</table>
<h2>Alerts as delivered</h2>
${journal.notifications.length === 0 ? '<p>No notification was read back (none arrived, or the target cannot read Slack).</p>' : ''}
${journal.notifications.map((n) => `<h3>${esc(n.status)} at ${Math.round(n.t / 1000)} s${n.channel ? ` to ${esc(n.channel)}` : ''}</h3><pre>${esc(n.text)}</pre>${n.runbookUrls.map((u) => `<p>Runbook: <a href="${esc(u)}">${esc(u)}</a></p>`).join('')}`).join('\n')}
${
  journal.budget
    ? `<h2>Error budget</h2>\n<ul>${budgetLines(journal.budget)
        .map((l) => `<li>${esc(l).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')}</li>`)
        .join('')}</ul>`
    : ''
}
${tracesHtml(journal, esc)}
<h2>Logs (excerpt)</h2>
${journal.console ? `<p>The console showed service errors as counts per class; all ${journal.console.length} console lines are in journal.json (<code>console</code>).</p>` : ''}
${journal.logs.length === 0 ? '<p>No log lines were collected.</p>' : ''}
${journal.logs.map((l) => `<h3>${esc(l.source)}</h3><pre>${esc(l.lines.slice(-60).join('\n'))}</pre>`).join('\n')}
</body></html>
`;
}

export interface WrittenReport {
  dir: string;
  journal: string;
  markdown: string;
  html: string;
}

export function writeReport(journal: Journal, dir: string): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files = { dir, journal: join(dir, 'journal.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeFileSync(files.journal, `${JSON.stringify(journal, null, 2)}\n`);
  writeFileSync(files.markdown, toMarkdown(journal));
  writeFileSync(files.html, toHtml(journal));
  return files;
}
