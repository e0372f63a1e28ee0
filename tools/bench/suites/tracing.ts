/**
 * What tracing on costs (issue 13): the same platform app with one upstream hop, in two processes
 * (the SDK is global to a process), one without OTEL_EXPORTER_OTLP_ENDPOINT and one exporting every
 * span (sampler always on) to the OTLP/HTTP JSON receiver `npm run observe` uses, running in this
 * process. Rounds alternate so machine noise hits both. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { otlpHttpHandler } from '@sre/observe/otlp';
import { TraceStore } from '@sre/observe/traces';
import type { Suite } from '../src/rows.js';

const connections = 16;
const APP = fileURLToPath(new URL('../src/traced-app.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

async function startApp(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', APP], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`traced app did not start in 60 s: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`traced app exited ${code}: ${output}`)));
  });
  return { child, url };
}

function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function measure(url: string, duration: number): Promise<number> {
  const result = await autocannon({ url: `${url}/items/42`, connections, duration, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export const tracingSuite: Suite = async ({ quick }) => {
  const durationSec = quick ? 1 : 3;
  const rounds = quick ? 1 : 3;
  const store = new TraceStore({ maxTraces: 1000 });
  const receiver = createServer(otlpHttpHandler(store));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: 'false' };
  for (const key of Object.keys(base)) if (key.startsWith('OTEL_EXPORTER_OTLP_')) delete base[key];
  const apps: Array<{ child: ChildProcess; url: string }> = [];
  const samples: { off: number[]; on: number[] } = { off: [], on: [] };
  try {
    const off = await startApp(base);
    apps.push(off);
    const on = await startApp({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    });
    apps.push(on);
    await measure(off.url, 1); // warm-up (JIT)
    await measure(on.url, 1);
    for (let i = 0; i < rounds; i++) {
      samples.off.push(await measure(off.url, durationSec));
      samples.on.push(await measure(on.url, durationSec));
    }
  } finally {
    // SIGTERM flushes the spans still queued; wait for it (bounded) before looking at the store.
    await Promise.all(apps.map((app) => stopApp(app.child)));
    receiver.close();
  }
  if (store.list({ order: 'recent' }).length === 0) throw new Error('tracing on exported no trace: the measurement would compare off with off');
  const ours = median(samples.on);
  const reference = median(samples.off);
  return [
    {
      suite: 'tracing',
      metric: 'GET /items/:id with one upstream fetch, tracing on (every span exported)',
      unit: 'req/s',
      ours,
      referenceName: 'same app, tracing off',
      reference,
      ratio: ours / reference,
      higherIsBetter: true,
      notes: `median of ${rounds} rounds × ${durationSec}s, ${connections} connections; OTLP/HTTP JSON to an in-process receiver (batch span processor), loopback`,
    },
  ];
};
