/**
 * What the platform's cross-cutting HTTP behaviour (request ids, trace-aware logging, metrics by
 * route, limits, error shape) costs per request, against bare Fastify measured in the same run on the
 * same machine. Rounds alternate baseline and candidate so machine noise hits both. Loopback only.
 */
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { createHttpApp, createPlatform } from '@sre/platform';
import type { BenchRow, Suite } from '../src/rows.js';

const connections = 16;
const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });

async function start(kind: 'baseline' | 'platform') {
  const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 1000, READINESS_CHECK_TIMEOUT_MS: 1000, BODY_LIMIT_BYTES: 65536, REQUEST_TIMEOUT_MS: 30000 };
  const app =
    kind === 'baseline'
      ? Fastify()
      : createHttpApp(createPlatform({ service: 'bench', config, logDestination: discard, collectProcessMetrics: false }), { config });
  app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id, ok: true }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

async function measure(url: string, duration: number): Promise<number> {
  const result = await autocannon({ url: `${url}/items/42`, connections, duration, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export const httpOverhead: Suite = async ({ quick }) => {
  const durationSec = quick ? 1 : 3;
  const rounds = quick ? 1 : 3;
  const baseline = await start('baseline');
  const candidate = await start('platform');
  const samples: { baseline: number[]; platform: number[] } = { baseline: [], platform: [] };
  try {
    await measure(baseline.url, 1); // warm-up (JIT)
    await measure(candidate.url, 1);
    for (let i = 0; i < rounds; i++) {
      samples.baseline.push(await measure(baseline.url, durationSec));
      samples.platform.push(await measure(candidate.url, durationSec));
    }
  } finally {
    await baseline.app.close();
    await candidate.app.close();
  }
  const ours = median(samples.platform);
  const reference = median(samples.baseline);
  const row: BenchRow = {
    suite: 'http-overhead',
    metric: 'GET /items/:id, platform app (createHttpApp)',
    unit: 'req/s',
    ours,
    referenceName: 'bare Fastify',
    reference,
    ratio: ours / reference,
    higherIsBetter: true,
    notes: `median of ${rounds} rounds × ${durationSec}s, ${connections} connections, autocannon in the bench process, loopback`,
  };
  return [row];
};
