/**
 * Gateway suite (issue 11): our gateway with every feature on (token check from the cache, rate
 * limit, breaker, security headers, metrics, trace context, request log) against a bare Fastify +
 * @fastify/reply-from proxy and nginx, all proxying `GET /api/images` to the same trivial upstream,
 * plus that upstream called directly, measured side by side in one run. wrk, the upstream and each
 * candidate run in their own processes; rounds alternate candidates so machine noise hits all of
 * them. Loopback only; bounded in time (rounds × candidates × duration).
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { freePort } from '@sre/testkit';
import { cpuSeconds, startProcess, waitHttpOk, type BenchProcess } from './gateway/processes.js';
import type { BenchRow, Suite } from '../src/rows.js';
import { requireCommands } from './gateway/tools.js';
import { wrk, type WrkResult } from './gateway/wrk.js';
import { writeNginxConfig } from './gateway/nginx.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HERE = fileURLToPath(new URL('./gateway/', import.meta.url));
const CONNECTIONS = 50;
const TSX = ['--conditions=development', '--import', 'tsx'];

type Candidate = 'gateway' | 'bareProxy' | 'nginx' | 'direct';
const LABELS: Record<Candidate, string> = {
  gateway: 'our gateway, all features on',
  bareProxy: 'bare Fastify + reply-from proxy',
  nginx: 'nginx reverse proxy (1 worker)',
  direct: 'upstream called directly',
};

async function signedToken() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const token = await new SignJWT({ email: 'bench@example.test' })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer('sre-platform-auth')
    .setAudience('sre-platform')
    .setSubject('5f0c6f55-8e1a-4d1a-9a55-0d4d2b1c1a11')
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { token, jwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round2 = (x: number) => Math.round(x * 100) / 100;

export const gatewaySuite: Suite = async ({ quick, workDir }) => {
  requireCommands({ wrk: 'wrk', nginx: 'nginx' });
  const durationSec = Number(process.env.BENCH_SECONDS ?? (quick ? 2 : 8));
  const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
  const dir = join(workDir, 'gateway');
  mkdirSync(dir, { recursive: true });
  const { token, jwks } = await signedToken();
  const ports = { upstream: await freePort(), gateway: await freePort(), management: await freePort(), bareProxy: await freePort(), nginx: await freePort() };
  const upstreamUrl = `http://127.0.0.1:${ports.upstream}`;
  const processes: BenchProcess[] = [];
  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = startProcess(name, command, args, { cwd: REPO_ROOT, logFile: join(dir, `${name}.log`), env: { ...process.env, ...env } });
    processes.push(p);
    return p;
  };

  try {
    const upstream = start('upstream', process.execPath, [...TSX, join(HERE, 'upstream-server.ts')], { BENCH_PORT: String(ports.upstream), BENCH_JWKS: jwks });
    await waitHttpOk(`${upstreamUrl}/`, 'the upstream', { process: upstream });
    const gateway = start('gateway', process.execPath, [...TSX, join(REPO_ROOT, 'services/gateway/src/main.ts')], {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(ports.gateway),
      MANAGEMENT_PORT: String(ports.management),
      AUTH_URL: upstreamUrl,
      IMAGES_URL: upstreamUrl,
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '0',
      // Far above the load so every answer is a proxied 200, while the limiter still counts each request.
      RATE_LIMIT_MAX: '1000000',
    });
    const bareProxy = start('bare-proxy', process.execPath, [...TSX, join(HERE, 'bare-proxy.ts')], {
      BENCH_PORT: String(ports.bareProxy),
      BENCH_UPSTREAM: upstreamUrl,
    });
    const nginxDir = join(dir, 'nginx');
    const nginxConf = writeNginxConfig(nginxDir, ports.nginx, ports.upstream);
    const nginx = start('nginx', 'nginx', ['-e', join(nginxDir, 'error.log'), '-p', nginxDir, '-c', nginxConf]);

    const auth = { authorization: `Bearer ${token}` };
    const urls: Record<Candidate, string> = {
      gateway: `http://127.0.0.1:${ports.gateway}/api/images`,
      bareProxy: `http://127.0.0.1:${ports.bareProxy}/api/images`,
      nginx: `http://127.0.0.1:${ports.nginx}/api/images`,
      direct: `${upstreamUrl}/`,
    };
    await waitHttpOk(`http://127.0.0.1:${ports.management}/readyz`, 'the gateway (readiness)', { process: gateway });
    const owners: Record<Candidate, BenchProcess> = { gateway, bareProxy, nginx, direct: upstream };
    for (const c of Object.keys(urls) as Candidate[]) await waitHttpOk(urls[c], LABELS[c], { timeoutMs: 30_000, headers: auth, process: owners[c] });

    const cpuOf: Partial<Record<Candidate, BenchProcess>> = { gateway, bareProxy, nginx };
    const samples = Object.fromEntries((Object.keys(urls) as Candidate[]).map((c) => [c, [] as WrkResult[]])) as Record<Candidate, WrkResult[]>;
    const cpu: Record<Candidate, { seconds: number; requests: number }> = {
      gateway: { seconds: 0, requests: 0 },
      bareProxy: { seconds: 0, requests: 0 },
      nginx: { seconds: 0, requests: 0 },
      direct: { seconds: 0, requests: 0 },
    };
    const socketErrors: Record<Candidate, number> = { gateway: 0, bareProxy: 0, nginx: 0, direct: 0 };
    const measure = async (c: Candidate, seconds: number) => {
      const pids = cpuOf[c]?.cpuPids() ?? [];
      const cpuBefore = cpuSeconds(pids);
      const result = await wrk({ url: urls[c], connections: CONNECTIONS, threads: 2, durationSec: seconds, headers: auth });
      if (result.non2xx > 0) throw new Error(`${LABELS[c]}: ${result.non2xx} non-2xx answers out of ${result.requests}; see ${dir}/*.log`);
      socketErrors[c] += result.socketErrors;
      cpu[c].seconds += cpuSeconds(pids) - cpuBefore;
      cpu[c].requests += result.requests;
      return result;
    };
    for (const c of Object.keys(urls) as Candidate[]) await measure(c, Math.min(3, durationSec)); // warm-up: JIT, pools, token cache
    for (const c of Object.keys(cpu) as Candidate[]) {
      cpu[c] = { seconds: 0, requests: 0 };
      socketErrors[c] = 0;
    }
    for (let i = 0; i < rounds; i++) {
      // Rotate the order each round so no candidate always runs right after the same neighbour.
      const order = (Object.keys(urls) as Candidate[]).map((_, k, all) => all[(k + i) % all.length]!);
      for (const c of order) samples[c].push(await measure(c, durationSec));
    }
    return rowsFrom(samples, cpu, { rounds, durationSec, socketErrors });
  } finally {
    for (const p of processes.reverse()) await p.stop();
  }
};

function rowsFrom(
  samples: Record<Candidate, WrkResult[]>,
  cpu: Record<Candidate, { seconds: number; requests: number }>,
  run: { rounds: number; durationSec: number; socketErrors: Record<Candidate, number> },
): BenchRow[] {
  const rps = (c: Candidate) => median(samples[c].map((s) => s.requestsPerSec));
  const p99 = (c: Candidate) => median(samples[c].map((s) => s.p99Ms));
  const cpuUs = (c: Candidate) => (cpu[c].requests > 0 ? (cpu[c].seconds / cpu[c].requests) * 1e6 : 0);
  const notes = `wrk, ${CONNECTIONS} connections, 2 threads, ${run.rounds} rounds × ${run.durationSec} s alternating, medians; authenticated GET /api/images to a trivial upstream; each in its own process; machine load average ${loadavg()[0]!.toFixed(1)} at the end; socket errors/timeouts (measured rounds): ${(Object.keys(LABELS) as Candidate[]).map((c) => `${c} ${run.socketErrors[c]}`).join(', ')}`;
  const metric = 'authenticated GET /api/images via proxy';
  const throughput = (reference: Candidate, goal?: { min: number }): BenchRow => {
    const ratio = rps('gateway') / rps(reference);
    return {
      suite: 'gateway',
      metric,
      unit: 'req/s',
      ours: Math.round(rps('gateway')),
      referenceName: LABELS[reference],
      reference: Math.round(rps(reference)),
      ratio: round2(ratio),
      higherIsBetter: true,
      ...(goal ? { goal: `>= ${goal.min}x`, met: ratio >= goal.min } : {}),
      notes,
    };
  };
  return [
    throughput('bareProxy', { min: 1.0 }),
    throughput('nginx', { min: 0.35 }),
    throughput('direct'),
    {
      suite: 'gateway',
      metric,
      unit: 'ms p99',
      ours: round2(p99('gateway')),
      referenceName: LABELS.nginx,
      reference: round2(p99('nginx')),
      ratio: round2(p99('nginx') / p99('gateway')),
      higherIsBetter: false,
      goal: '<= 2x nginx p99',
      met: p99('gateway') <= 2 * p99('nginx'),
      notes: `ratio is nginx / ours; bare proxy p99 ${round2(p99('bareProxy'))} ms, upstream direct ${round2(p99('direct'))} ms`,
    },
    {
      suite: 'gateway',
      metric: 'CPU time per proxied request',
      unit: 'µs CPU/request',
      ours: Math.round(cpuUs('gateway')),
      referenceName: LABELS.bareProxy,
      reference: Math.round(cpuUs('bareProxy')),
      ratio: round2(cpuUs('bareProxy') / cpuUs('gateway')),
      higherIsBetter: false,
      notes: `user+system CPU of the process (/proc, 10 ms ticks) over all measured rounds / requests served; nginx (master + worker) ${Math.round(cpuUs('nginx'))} µs`,
    },
  ];
}
