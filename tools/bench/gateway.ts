/**
 * `npm run bench:gateway [-- --quick] [--out DIR]`: the gateway suite on its own (the umbrella
 * `npm run bench` runs it with the others). Prints a table and writes rows as JSON.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatRows } from './suites/gateway/table.js';
import { gatewaySuite } from './suites/gateway.js';

const USAGE = `usage: npm run bench:gateway -- [--quick] [--out DIR] [--help]

Measures, in one run, authenticated GET /api/images through our gateway (all features on), a bare
Fastify + @fastify/reply-from proxy, nginx, and the upstream directly (wrk, 50 connections, each in
its own process); prints req/s, p99 and CPU per request as ratios, and writes DIR/gateway.json.
  --quick     one short round (a smoke test; figures are not comparable)
  --out DIR   where to write results and logs (default: a new temp folder)
Env: BENCH_SECONDS (per round, default 8), BENCH_ROUNDS (default 3). Needs nginx and wrk
(bash tools/bench/prepare.sh installs them as root).`;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const workDir = values.out ?? mkdtempSync(join(tmpdir(), 'bench-gateway-'));
mkdirSync(workDir, { recursive: true });
const rows = await gatewaySuite({ quick: values.quick, workDir });
console.log(formatRows(rows));
writeFileSync(join(workDir, 'gateway.json'), `${JSON.stringify(rows, null, 2)}\n`);
console.log(`\nrows: ${join(workDir, 'gateway.json')} (process logs beside it)`);
