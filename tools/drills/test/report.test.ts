import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { toHtml, toMarkdown } from '../src/report/write.js';
import { expectationTable, exitCodeFor } from '../src/terminal.js';
import { summarize, tinyPng } from '../src/traffic.js';
import type { Journal, TrafficSample } from '../src/types.js';

function journal(overrides: Partial<Journal> = {}): Journal {
  const traffic: TrafficSample[] = [];
  for (let t = 0; t < 40_000; t += 250) {
    const failing = t >= 10_000 && t < 25_000;
    traffic.push({
      t,
      cls: t % 1000 === 0 ? 'auth' : 'images',
      route: 'GET /api/images',
      status: failing && t % 500 === 0 ? 503 : 200,
      ok: !(failing && t % 500 === 0),
      latencyMs: failing ? 40 : 8,
      phase: t < 10_000 ? 'steady-state' : t < 25_000 ? 'observe' : 'recover',
    });
  }
  return {
    version: 1,
    scenario: 'error-burst',
    title: 'Error burst',
    summary: 'Images answers half of its requests with 503 <injected>.',
    target: 'local',
    dryRun: false,
    startedAt: '2026-11-26T07:00:00.000Z',
    finishedAt: '2026-11-26T07:00:40.000Z',
    result: 'passed',
    environment: { platform: 'test' },
    phases: [
      { name: 'steady-state', startedAt: '', t0: 0, t1: 10_000, status: 'ok' },
      { name: 'observe', startedAt: '', t0: 10_000, t1: 25_000, status: 'ok' },
    ],
    events: [{ t: 12_000, at: '', kind: 'alert', message: 'ServiceHighErrorRatio active in Alertmanager' }],
    actions: [{ t: 10_000, phase: 'inject', description: 'Switch on errors', command: 'curl -X PUT …', ok: true, output: 'errors on' }],
    expectations: [
      {
        id: 'error-ratio-alert',
        kind: 'alert-fires',
        description: 'ServiceHighErrorRatio fires',
        why: 'alerts page',
        check: 'Alertmanager',
        status: 'passed',
        observed: 'active after 16 s',
        measuredMs: 16_000,
      },
      {
        id: 'auth-unaffected',
        kind: 'traffic',
        description: 'Auth unaffected',
        why: 'isolation',
        check: 'traffic',
        status: 'failed',
        observed: '1 failure | 503',
      },
    ],
    traffic,
    queries: [
      {
        name: 'images 5xx ratio',
        promql: 'namespace_service:http_requests_5xx:ratio_rate2m{service="images"}',
        points: [
          { t: 11_000, value: 0 },
          { t: 15_000, value: 0.5 },
          { t: 30_000, value: null },
        ].map((p) => ({ ...p, series: 1 })),
      },
    ],
    alertStates: [
      { t: 11_000, alertname: 'ServiceHighErrorRatio', state: 'pending' },
      { t: 14_000, alertname: 'ServiceHighErrorRatio', state: 'firing' },
      { t: 30_000, alertname: 'ServiceHighErrorRatio', state: 'inactive' },
    ],
    notifications: [
      {
        receivedAt: '2026-11-26T07:00:16.000Z',
        t: 16_000,
        status: 'firing',
        alertnames: ['ServiceHighErrorRatio'],
        text: '[FIRING:1] ServiceHighErrorRatio <script>alert(1)</script>',
        runbookUrls: ['https://example.test/docs/runbooks/ServiceHighErrorRatio.md'],
        channel: '#all-sre-project',
      },
    ],
    logs: [{ source: 'images', lines: ['{"level":50,"msg":"request failed"}'] }],
    timeToDetectMs: 16_000,
    timeToRecoverMs: 1200,
    markers: { injectedAt: 10_000, rollbackAt: 25_000, recoveredAt: 26_200 },
    ...overrides,
  };
}

describe('drill reports', () => {
  it('Markdown has the expectations table, time-to-detect/recover, and the four parts', () => {
    const md = toMarkdown(journal());
    assert.match(md, /^# Drill report: Error burst \(`error-burst`, local\)/);
    assert.match(md, /\| ✅ pass \| ServiceHighErrorRatio fires \|/);
    assert.match(md, /\| ❌ fail \| Auth unaffected \|/);
    assert.match(md, /1 failure \\\| 503 \|/, 'pipes escaped in table cells');
    assert.match(md, /Time to detect .*\*\*16 s\*\*/);
    assert.match(md, /Time to recover .*\*\*1\.2 s\*\*/);
    for (const part of ['## Events', '## Prometheus queries', '## Alerts as delivered', '## Logs (excerpt)']) assert.ok(md.includes(part), part);
    assert.match(
      md,
      /\| images 5xx ratio \| `namespace_service:http_requests_5xx:ratio_rate2m\{service="images"\}` \| 0\.5 \(at 15 s\) \| 0\.5 \(at 15 s\) \|/,
    );
  });

  it('HTML is one self-contained page with inline SVG charts, and escapes what it shows', () => {
    const html = toHtml(journal());
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|<link |src=/);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'notification text escaped');
    assert.equal((html.match(/<svg /g) ?? []).length, 4, 'success, latency, alert states, one query');
    assert.match(html, /Success rate of synthetic traffic/);
    assert.match(html, /<rect [^>]*fill="#c0392b"><title>ServiceHighErrorRatio firing/);
    assert.match(html, /stroke-dasharray="4 3"\/><text[^>]*>inject</);
    assert.match(html, /<a href="https:\/\/example\.test\/docs\/runbooks\/ServiceHighErrorRatio\.md">/);
  });

  it('the terminal table shows PASS/FAIL per expectation, and the exit code is 0 only when all held', () => {
    const table = expectationTable(journal());
    assert.match(table, /^PASS {2}error-ratio-alert/m);
    assert.match(table, /^FAIL {2}auth-unaffected/m);
    assert.equal(exitCodeFor([journal({ result: 'passed' })], 1), 0);
    assert.equal(exitCodeFor([journal({ result: 'failed' })], 1), 1);
    assert.equal(exitCodeFor([journal({ result: 'not-started' })], 1), 1);
    assert.equal(exitCodeFor([journal({ result: 'passed' })], 2), 1, 'a drill that did not run (Ctrl-C) is not a pass');
  });

  it('summarizes traffic and makes a valid PNG for the synthetic upload', () => {
    const s = summarize(journal().traffic);
    assert.equal(s.total, 160);
    assert.equal(s.statuses['503'], 30);
    const png = tinyPng();
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idatLength = png.readUInt32BE(33);
    assert.equal(inflateSync(png.subarray(41, 41 + idatLength)).length, 16 * (1 + 16 * 3));
  });
});
