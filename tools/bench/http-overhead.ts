/**
 * `npm run bench`: what the platform's cross-cutting HTTP behaviour (request ids, trace-aware logging,
 * metrics by route, limits, error shape) costs per request, as a ratio against bare Fastify measured
 * in the same run on the same machine. Rounds alternate baseline and candidate so machine noise
 * hits both. Loopback only; every run is bounded in time.
 */
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { createHttpApp, createPlatform } from '@sre/platform';

const durationSec = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
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

async function measure(url: string): Promise<number> {
  const result = await autocannon({ url: `${url}/items/42`, connections, duration: durationSec, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

const baseline = await start('baseline');
const candidate = await start('platform');
const samples: { baseline: number[]; platform: number[] } = { baseline: [], platform: [] };
try {
  await measure(baseline.url); // warm-up (JIT)
  await measure(candidate.url);
  for (let i = 0; i < rounds; i++) {
    samples.baseline.push(await measure(baseline.url));
    samples.platform.push(await measure(candidate.url));
  }
} finally {
  await baseline.app.close();
  await candidate.app.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const b = median(samples.baseline);
const p = median(samples.platform);
console.log(`bench http-overhead: ${rounds} rounds × ${durationSec}s, ${connections} connections, loopback`);
console.log(`  baseline (bare Fastify)        ${b.toFixed(0).padStart(8)} req/s (median)`);
console.log(`  platform (createHttpApp)       ${p.toFixed(0).padStart(8)} req/s (median)`);
console.log(`  ratio platform/baseline        ${(p / b).toFixed(2)}`);
