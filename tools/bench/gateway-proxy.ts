/**
 * `npm run bench:gateway`: what the gateway adds to a request (edge token check, rate limiting,
 * circuit breaker, streaming proxy, headers, metrics), as ratios against calling the upstream
 * directly, measured in the same run. A second candidate turns the verified-token cache off to show
 * what that cache saves (an Ed25519 verification per request). Loopback only; bounded in time.
 *
 * Load generator, upstream and gateway share this one process (and its event loop), so the
 * absolute numbers are low and the gateway ratio also pays for the extra hop's client side; the
 * ratios are for comparing changes run to run, on the same machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { parseConfig } from '@sre/platform';
import { buildApp } from '../../services/gateway/src/app.js';
import { configSchema } from '../../services/gateway/src/config.js';

const durationSec = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = 16;
const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Signing keys and a JWKS, as the Auth service publishes them.
const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
const jwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(jwk);
const jwksBody = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] });
const token = await new SignJWT({ email: 'bench@example.test' })
  .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
  .setIssuer('sre-platform-auth')
  .setAudience('sre-platform')
  .setSubject('5f0c6f55-8e1a-4d1a-9a55-0d4d2b1c1a11')
  .setJti(crypto.randomUUID())
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);

// The upstream: answers a small JSON list (what GET /api/images returns), and the JWKS.
const listBody = JSON.stringify({ items: [], nextCursor: null });
const upstream = createServer((req, res) => {
  const body = req.url?.startsWith('/.well-known/jwks.json') ? jwksBody : listBody;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
const upstreamUrl = await listen(upstream);

async function startGateway(tokenCacheEntries: number) {
  const config = parseConfig('gateway', configSchema, {
    AUTH_URL: upstreamUrl,
    IMAGES_URL: upstreamUrl,
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '1000000',
    TOKEN_CACHE_MAX_ENTRIES: String(tokenCacheEntries),
  });
  const gateway = buildApp(config, { logDestination: discard, collectProcessMetrics: false });
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return { gateway, url };
}

async function measure(url: string, headers: Record<string, string> = {}): Promise<number> {
  const result = await autocannon({ url, headers, connections, duration: durationSec });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench saw ${result.non2xx} non-2xx and ${result.errors} errors at ${url}`);
  return result.requests.average;
}

const cached = await startGateway(10_000);
const uncached = await startGateway(0);
const auth = { authorization: `Bearer ${token}` };
const targets = {
  direct: () => measure(`${upstreamUrl}/`),
  gateway: () => measure(`${cached.url}/api/images`, auth),
  gatewayNoCache: () => measure(`${uncached.url}/api/images`, auth),
};
const samples: Record<keyof typeof targets, number[]> = { direct: [], gateway: [], gatewayNoCache: [] };
try {
  for (const run of Object.values(targets)) await run(); // warm-up (JIT, JWKS fetch)
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(targets) as Array<[keyof typeof targets, () => Promise<number>]>) samples[name].push(await run());
  }
} finally {
  await cached.gateway.close();
  await uncached.gateway.close();
  upstream.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const direct = median(samples.direct);
console.log(`bench gateway-proxy: ${rounds} rounds × ${durationSec}s, ${connections} connections, loopback, one process`);
console.log(`  baseline: upstream called directly          ${direct.toFixed(0).padStart(8)} req/s (median)`);
console.log(`  through the gateway (token cache on)        ${median(samples.gateway).toFixed(0).padStart(8)} req/s  ratio ${(median(samples.gateway) / direct).toFixed(2)}`);
console.log(`  through the gateway (token cache off)       ${median(samples.gatewayNoCache).toFixed(0).padStart(8)} req/s  ratio ${(median(samples.gatewayNoCache) / direct).toFixed(2)}`);
