import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from './stats.js';

export interface LoadReport {
  tool: 'sre-platform load';
  target: string;
  startedAt: string;
  settings: { ratePerSec: number; durationSec: number; mix: Record<string, number>; maxInFlight: number; maxFlows: number };
  summary: Summary;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Horizontal bars of p50 and p99 per step, inline SVG (no script, no external asset). */
function latencyBars(summary: Summary): string {
  const rowH = 22;
  const max = Math.max(1, ...summary.steps.map((s) => s.p99Ms));
  const width = 420;
  const bars = summary.steps
    .map((s, i) => {
      const y = i * rowH;
      const w50 = (s.p50Ms / max) * width;
      const w99 = (s.p99Ms / max) * width;
      return `<text x="0" y="${y + 15}">${esc(s.step)}</text><rect x="90" y="${y + 3}" width="${w99.toFixed(1)}" height="16" fill="#f4b183"/><rect x="90" y="${y + 3}" width="${w50.toFixed(1)}" height="16" fill="#5b9bd5"/><text x="${(95 + w99).toFixed(1)}" y="${y + 15}">${s.p50Ms} / ${s.p99Ms} ms</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width + 220}" height="${summary.steps.length * rowH + 4}" font-family="sans-serif" font-size="12" role="img" aria-label="p50 and p99 latency per step">${bars}</svg>`;
}

export function toHtml(report: LoadReport): string {
  const s = report.summary;
  const stepRows = s.steps
    .map(
      (st) =>
        `<tr><td>${esc(st.step)}</td><td>${st.count}</td><td>${st.ok}</td><td>${st.errors}</td><td>${st.p50Ms}</td><td>${st.p90Ms}</td><td>${st.p99Ms}</td><td>${st.maxMs}</td></tr>`,
    )
    .join('');
  const errorRows =
    Object.entries(s.errorClasses)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`)
      .join('') || '<tr><td colspan="2">none</td></tr>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load report: ${esc(report.target)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}.bad{color:#b00}</style>
</head><body>
<h1>Load report</h1>
<p>Target <code>${esc(report.target)}</code>, started ${esc(report.startedAt)}: ${report.settings.ratePerSec} flows/s for ${report.settings.durationSec} s (mix ${esc(
    Object.entries(report.settings.mix)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  )}, at most ${report.settings.maxInFlight} in flight).</p>
<ul>
<li>Flows started ${s.flowsStarted}, completed ${s.flowsCompleted}, failed <span class="${s.flowsFailed ? 'bad' : ''}">${s.flowsFailed}</span></li>
<li>Starts dropped at the in-flight cap <span class="${s.droppedStarts ? 'bad' : ''}">${s.droppedStarts}</span>; abandoned at the end ${s.abandoned}</li>
<li>Arrival rate achieved ${s.achievedRatePerSec} /s over ${s.elapsedSec} s</li>
</ul>
<h2>Latency per step (ms)</h2>
<table><tr><th>step</th><th>count</th><th>ok</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>${stepRows}</table>
${latencyBars(s)}
<p>Blue: p50, orange: p99.</p>
<h2>Error classes</h2>
<table><tr><th>class</th><th>count</th></tr>${errorRows}</table>
</body></html>
`;
}

export function writeReport(dir: string, report: LoadReport): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'load-report.json');
  const html = join(dir, 'load-report.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, toHtml(report));
  return { json, html };
}

export function describe(summary: Summary): string {
  const lines = [
    `flows: ${summary.flowsStarted} started, ${summary.flowsCompleted} completed, ${summary.flowsFailed} failed, ${summary.droppedStarts} dropped at the in-flight cap, ${summary.abandoned} abandoned; arrivals ${summary.achievedRatePerSec}/s`,
    'step         count  errors    p50 ms    p90 ms    p99 ms',
    ...summary.steps.map(
      (s) =>
        `${s.step.padEnd(12)} ${String(s.count).padStart(5)}  ${String(s.errors).padStart(6)}  ${String(s.p50Ms).padStart(8)}  ${String(s.p90Ms).padStart(8)}  ${String(s.p99Ms).padStart(8)}`,
    ),
  ];
  const errors = Object.entries(summary.errorClasses);
  if (errors.length > 0) lines.push(`errors: ${errors.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  return lines.join('\n');
}
