import type { Journal, TrafficSample } from '../types.js';

/**
 * Inline SVG charts for the HTML report (no script, no external asset): success rate and latency
 * per second of synthetic traffic, recorded PromQL series, and alert states as lanes. Every chart
 * shares the time axis (seconds since the drill started) and marks injection, rollback and
 * recovery.
 */

const W = 860;
const H = 200;
const PAD = { left: 56, right: 16, top: 16, bottom: 28 };

export interface Bucket {
  t: number;
  total: number;
  ok: number;
  p50: number;
  p95: number;
}

export function perSecond(samples: readonly TrafficSample[], seconds = 1): Bucket[] {
  const map = new Map<number, TrafficSample[]>();
  for (const s of samples) {
    const k = Math.floor(s.t / (seconds * 1000));
    const list = map.get(k) ?? [];
    list.push(s);
    map.set(k, list);
  }
  return [...map.entries()]
    .sort(([a], [b]) => a - b)
    .map(([k, list]) => {
      const lat = list.map((s) => s.latencyMs).sort((a, b) => a - b);
      const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
      return { t: k * seconds, total: list.length, ok: list.filter((s) => s.ok).length, p50: q(0.5), p95: q(0.95) };
    });
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Axis {
  tMax: number;
  x: (t: number) => number;
}

function axis(journal: Journal): Axis {
  const ends = [
    ...journal.traffic.map((s) => s.t / 1000),
    ...journal.alertStates.map((a) => a.t / 1000),
    ...journal.queries.flatMap((q) => q.points.map((p) => p.t / 1000)),
    (journal.markers.recoveredAt ?? 0) / 1000,
  ];
  const tMax = Math.max(10, ...ends);
  return { tMax, x: (t: number) => PAD.left + (t / tMax) * (W - PAD.left - PAD.right) };
}

function frame(ax: Axis, journal: Journal, yLabels: Array<{ y: number; label: string }>, height = H): string {
  const parts: string[] = [];
  parts.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${height - PAD.top - PAD.bottom}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (const { y, label } of yLabels) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#555">${esc(label)}</text>`);
  }
  const step = ax.tMax > 300 ? 60 : ax.tMax > 120 ? 30 : 10;
  for (let t = 0; t <= ax.tMax; t += step) {
    parts.push(`<text x="${ax.x(t)}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${t}s</text>`);
  }
  const marker = (ms: number | undefined, label: string, color: string) => {
    if (ms === undefined) return;
    const x = ax.x(ms / 1000);
    parts.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${height - PAD.bottom}" stroke="${color}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x + 3}" y="${PAD.top + 11}" font-size="10" fill="${color}">${label}</text>`);
  };
  marker(journal.markers.injectedAt, 'inject', '#c0392b');
  marker(journal.markers.rollbackAt, 'rollback', '#2471a3');
  marker(journal.markers.recoveredAt, 'recovered', '#1e8449');
  return parts.join('');
}

function polyline(points: Array<[number, number]>, color: string, label: string): string {
  if (points.length === 0) return '';
  return `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"><title>${esc(label)}</title></polyline>`;
}

function svg(title: string, body: string, legend: Array<[string, string]>, height = H): string {
  const legendSvg = legend
    .map(
      ([color, label], i) =>
        `<rect x="${PAD.left + i * 170}" y="${height + 4}" width="10" height="10" fill="${color}"/><text x="${PAD.left + i * 170 + 14}" y="${height + 13}" font-size="11">${esc(label)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height + 20}" width="100%" role="img" aria-label="${esc(title)}">${body}${legendSvg}</svg></figure>`;
}

export function successChart(journal: Journal): string {
  const ax = axis(journal);
  const inner = H - PAD.top - PAD.bottom;
  const y = (ratio: number) => PAD.top + (1 - ratio) * inner;
  const colors: Record<string, string> = { auth: '#8e44ad', images: '#d35400', storage: '#16a085' };
  let body = frame(
    ax,
    journal,
    [0, 0.25, 0.5, 0.75, 1].map((r) => ({ y: y(r), label: `${r * 100}%` })),
  );
  for (const cls of ['auth', 'images', 'storage'] as const) {
    const b = perSecond(
      journal.traffic.filter((s) => s.cls === cls),
      2,
    );
    body += polyline(
      b.map((p) => [ax.x(p.t + 1), y(p.ok / p.total)]),
      colors[cls] as string,
      `${cls} success rate`,
    );
  }
  return svg('Success rate of synthetic traffic (per 2 s, by class)', body, [
    ['#8e44ad', 'auth'],
    ['#d35400', 'images'],
    ['#16a085', 'storage (thumbnails)'],
  ]);
}

export function latencyChart(journal: Journal): string {
  const ax = axis(journal);
  const b = perSecond(journal.traffic, 2);
  const max = Math.max(100, ...b.map((p) => p.p95));
  const top = Math.pow(10, Math.ceil(Math.log10(max)));
  const inner = H - PAD.top - PAD.bottom;
  // Log scale: a 5 ms normal and a 2.5 s injected delay both stay readable.
  const y = (ms: number) => PAD.top + (1 - Math.log10(Math.max(1, ms)) / Math.log10(top)) * inner;
  const ticks: Array<{ y: number; label: string }> = [];
  for (let v = 1; v <= top; v *= 10) ticks.push({ y: y(v), label: v >= 1000 ? `${v / 1000} s` : `${v} ms` });
  let body = frame(ax, journal, ticks);
  body += polyline(
    b.map((p) => [ax.x(p.t + 1), y(p.p50)]),
    '#2e86c1',
    'p50',
  );
  body += polyline(
    b.map((p) => [ax.x(p.t + 1), y(p.p95)]),
    '#c0392b',
    'p95',
  );
  return svg('Latency of synthetic traffic (per 2 s, log scale)', body, [
    ['#2e86c1', 'p50'],
    ['#c0392b', 'p95'],
  ]);
}

export function alertChart(journal: Journal): string {
  const names = [...new Set(journal.alertStates.map((a) => a.alertname))];
  if (names.length === 0) return '';
  const ax = axis(journal);
  const lane = 26;
  const height = PAD.top + PAD.bottom + names.length * lane;
  let body = frame(ax, journal, [], height);
  names.forEach((name, i) => {
    const yTop = PAD.top + i * lane + 4;
    body += `<text x="${PAD.left + 4}" y="${yTop + 12}" font-size="11" fill="#333">${esc(name)}</text>`;
    const points = journal.alertStates.filter((a) => a.alertname === name);
    points.forEach((p, j) => {
      const next = points[j + 1];
      if (p.state === 'inactive' || !next) return;
      const color = p.state === 'firing' ? '#c0392b' : '#f39c12';
      body += `<rect x="${ax.x(p.t / 1000)}" y="${yTop + 14}" width="${Math.max(1, ax.x(next.t / 1000) - ax.x(p.t / 1000))}" height="8" fill="${color}"><title>${esc(`${name} ${p.state} at ${Math.round(p.t / 1000)} s`)}</title></rect>`;
    });
  });
  for (const n of journal.notifications) {
    const x = ax.x(n.t / 1000);
    body += `<circle cx="${x}" cy="${height - PAD.bottom - 4}" r="3.5" fill="${n.status === 'resolved' ? '#1e8449' : '#2c3e50'}"><title>${esc(`Slack ${n.status} at ${Math.round(n.t / 1000)} s`)}</title></circle>`;
  }
  return svg(
    'Alert states in Prometheus (pending / firing) and Slack notifications (dots)',
    body,
    [
      ['#f39c12', 'pending'],
      ['#c0392b', 'firing'],
      ['#2c3e50', 'Slack firing'],
      ['#1e8449', 'Slack resolved'],
    ],
    height,
  );
}

export function queryChart(journal: Journal, index: number): string {
  const q = journal.queries[index];
  if (!q || q.points.every((p) => p.value === null)) return '';
  const ax = axis(journal);
  const values = q.points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(1e-9, ...values);
  const min = Math.min(0, ...values);
  const inner = H - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + (1 - (v - min) / (max - min || 1)) * inner;
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));
  let body = frame(
    ax,
    journal,
    [min, (min + max) / 2, max].map((v) => ({ y: y(v), label: fmt(v) })),
  );
  const segs: Array<Array<[number, number]>> = [[]];
  for (const p of q.points) {
    if (p.value === null) {
      if ((segs.at(-1) ?? []).length > 0) segs.push([]);
      continue;
    }
    segs.at(-1)?.push([ax.x(p.t / 1000), y(p.value)]);
  }
  for (const s of segs) body += polyline(s, '#34495e', q.name);
  return svg(`${q.name} — ${q.promql}`, body, [['#34495e', q.name]]);
}
