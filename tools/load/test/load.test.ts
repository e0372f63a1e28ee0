import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startPlatform, type RunningPlatform } from '@sre/launcher/testing';
import type { LoadReport } from '../src/report.js';
import { runLoad } from '../src/scheduler.js';

const run = promisify(execFile);
const MAIN = new URL('../main.ts', import.meta.url).pathname;

describe('load generator against a real platform', () => {
  let platform: RunningPlatform;
  before(async () => {
    platform = await startPlatform();
  });
  after(async () => {
    await platform?.stop();
  });

  it('runs every step of both flows and writes JSON and HTML summaries whose counts add up', async () => {
    const out = mkdtempSync(join(tmpdir(), 'load-'));
    // 2 flows/s for 4 s: 8 arrivals, whatever the timing.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, '--target', platform.url, '--rate', '2', '--duration', '4s', '--mix', 'signup=1,browse=1', '--out', out],
      { timeout: 400_000 },
    );
    assert.match(stdout, /flows: 8 started/);
    assert.doesNotMatch(stdout, /\r/, 'no progress line when stdout is not a terminal');
    const report = JSON.parse(readFileSync(join(out, 'load-report.json'), 'utf8')) as LoadReport;
    const s = report.summary;
    assert.equal(s.flowsStarted + s.droppedStarts, 8);
    assert.equal(s.flowsFailed, 0, JSON.stringify(s.errorClasses));
    assert.equal(s.flowsCompleted, s.flowsStarted);
    const steps = Object.fromEntries(s.steps.map((st) => [st.step, st]));
    for (const step of ['register', 'login', 'list', 'upload', 'view', 'thumbnail', 'delete', 'refresh']) {
      assert.ok(steps[step] && steps[step].ok > 0 && steps[step].errors === 0, `${step}: ${JSON.stringify(steps[step])}`);
    }
    // Every flow lists, uploads, views, thumbnails, deletes and refreshes exactly once.
    for (const step of ['list', 'upload', 'view', 'thumbnail', 'delete', 'refresh']) assert.equal(steps[step]!.count, s.flowsCompleted, step);
    const html = readFileSync(join(out, 'load-report.html'), 'utf8');
    assert.match(html, /<h1>Load report<\/h1>/);
    assert.doesNotMatch(html, /<script|(?:src|href)=["']?https?:/, 'self-contained: no script, no external asset');
  });
});

describe('load generator holds the arrival rate when the server is slow', () => {
  let server: Server;
  let url: string;
  before(async () => {
    // A server slower than the whole run: every request waits 8 s, then fails. A closed-model
    // generator would start 4 flows and wait; an open one keeps arriving and counts the drops.
    server = createServer((_req, res) => {
      const timer = setTimeout(
        () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"SLOW","message":"slow","requestId":"x"}}'),
        8000,
      );
      res.on('close', () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('starts on schedule up to the in-flight cap and counts every start it had to drop', async () => {
    const summary = await runLoad({
      target: new URL(url),
      ratePerSec: 5,
      durationMs: 3000,
      mix: { signup: 1, browse: 0 },
      maxInFlight: 4,
      maxFlows: 1000,
      outDir: '',
    });
    assert.equal(summary.flowsStarted + summary.droppedStarts, 15, '5/s for 3 s is 15 arrivals');
    assert.equal(summary.flowsStarted, 4);
    assert.equal(summary.droppedStarts, 11);
    assert.equal(summary.flowsFailed, 4);
    assert.deepEqual(summary.errorClasses, { 'http 503 SLOW': 4 });
    assert.equal(summary.steps.find((s) => s.step === 'register')?.count, 4);
  });
});
