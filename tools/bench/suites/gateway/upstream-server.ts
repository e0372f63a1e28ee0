/**
 * The trivial upstream every candidate proxies to, in its own process: a small JSON list (what
 * `GET /api/images` returns for a new user) and the JWKS the gateway verifies tokens with.
 * Env: BENCH_PORT, BENCH_JWKS (a JSON JWKS).
 */
import { createServer } from 'node:http';

const jwks = Buffer.from(process.env.BENCH_JWKS ?? '{"keys":[]}');
const list = Buffer.from(JSON.stringify({ items: [], nextCursor: null }));
const server = createServer((req, res) => {
  const body = req.url === '/.well-known/jwks.json' ? jwks : list;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
