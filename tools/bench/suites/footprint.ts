/**
 * Footprint (issue 11): resident memory of everything `npm start` runs (launcher, services, the local
 * database) right after start and after an upload burst, against the goal of 600 MB. Sum of VmRSS
 * over the launcher's process tree (tools/bench/src/process-tree.ts). Loopback only; the burst is
 * bounded in time and count. Run alone: `node --conditions=development --import tsx tools/bench/suites/footprint.ts [--quick]`;
 * FOOTPRINT_DATABASE=pglite measures the embedded-PGlite set-up (`npm start -- --database pglite`) instead of the default.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { processTreeMemory, summarise } from '../src/process-tree.js';
import type { BenchRow, Suite } from '../src/rows.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const GOAL_MB = 600;
const IN_FLIGHT = 4;

async function json<T>(res: Response): Promise<T> {
  const body = (await res.json()) as T;
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Uploads of a 1200×800 JPEG, IN_FLIGHT at a time, until `seconds` pass (at most 5000). */
async function uploadBurst(base: string, seconds: number): Promise<{ uploads: number; failures: number }> {
  const email = `footprint-${Date.now()}@example.test`;
  const password = 'correct horse battery staple';
  await json(
    await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) }),
  );
  const { accessToken } = await json<{ accessToken: string }>(
    await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) }),
  );
  const noise = Buffer.alloc(1200 * 800 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const jpeg = await sharp(noise, { raw: { width: 1200, height: 800, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  const deadline = Date.now() + seconds * 1000;
  let uploads = 0;
  let failures = 0;
  const worker = async () => {
    while (Date.now() < deadline && uploads + failures < 5000) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'burst.jpg');
      const res = await fetch(`${base}/api/images`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` }, body: form }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 201) uploads++;
      else failures++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { uploads, failures };
}

function row(metric: string, totalMb: number, notes: string): BenchRow {
  return {
    suite: 'footprint',
    metric,
    unit: 'MB',
    ours: totalMb,
    referenceName: 'goal (issue 11)',
    reference: GOAL_MB,
    ratio: Number((GOAL_MB / totalMb).toFixed(2)),
    higherIsBetter: false,
    goal: `< ${GOAL_MB} MB`,
    met: totalMb < GOAL_MB,
    notes,
  };
}

export const footprint: Suite = async ({ quick, workDir }) => {
  const dataDir = join(workDir, 'footprint-data');
  mkdirSync(dataDir, { recursive: true });
  // Run as root, the local PostgreSQL server runs as `postgres` and must be able to enter the folder.
  chmodSync(workDir, 0o755);
  const database = process.env.FOOTPRINT_DATABASE === 'pglite' ? 'pglite' : 'default';
  const launcher = spawn(
    process.execPath,
    [
      '--conditions=development',
      '--import',
      'tsx',
      'tools/launcher/main.ts',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...(database === 'pglite' ? ['--database', 'pglite'] : []),
    ],
    {
      cwd: REPO_ROOT,
      // One client makes every request here: the per-IP limits would stop the burst.
      env: { ...process.env, RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '1000000', LOGIN_THROTTLE_IP_FREE_ATTEMPTS: '100000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  launcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
  launcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => launcher.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 300_000;
    while (!output.includes('Press Ctrl-C to stop.')) {
      if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const base = /App: +(http:\/\/\S+)/.exec(output)![1]!.replace('localhost', '127.0.0.1');
    const afterStart = summarise(processTreeMemory(launcher.pid!));
    const burstSeconds = quick ? 10 : 60;
    const burst = await uploadBurst(base, burstSeconds);
    const afterBurst = summarise(processTreeMemory(launcher.pid!));
    return [
      row(
        `resident memory of the npm start process tree (${database} database), right after start`,
        afterStart.totalMb,
        `sum of VmRSS over the launcher's tree, MB: ${afterStart.breakdown}`,
      ),
      row(
        `resident memory (${database} database) after a ${burstSeconds} s upload burst`,
        afterBurst.totalMb,
        `${burst.uploads} uploads of a 1200×800 JPEG (${IN_FLIGHT} in flight, ${burst.failures} failed); MB: ${afterBurst.breakdown}`,
      ),
    ];
  } finally {
    if (launcher.exitCode === null) launcher.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000).unref())]);
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
  }
};

export default footprint;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await footprint({ quick: process.argv.includes('--quick'), workDir: mkdtempSync(join(tmpdir(), 'bench-footprint-')) });
  for (const r of rows) process.stdout.write(`${r.metric}: ${r.ours} MB (goal ${r.goal}: ${r.met ? 'met' : 'not met'})\n  ${r.notes}\n`);
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
