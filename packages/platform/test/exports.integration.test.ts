import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, waitFor } from '@sre/testkit';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const RECORDER = join(import.meta.dirname, 'fixtures', 'record-modules.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'platform-exports-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Database code: the drivers, the query builder, and the platform's own database modules. */
const DATABASE_MODULE = /\/node_modules\/(pg|pg-[a-z-]+|kysely|@electric-sql\/pglite)\/|\/packages\/platform\/(src|dist)\/(database|pglite-dialect|db)\.[jt]s$/;

interface Run {
  modules: string[];
  output: string;
}

/** Runs `args` under tsx with the module recorder until `ready` is printed (or exit), then SIGTERM. */
async function recordModules(name: string, args: string[], env: NodeJS.ProcessEnv, ready?: RegExp): Promise<Run> {
  const file = join(scratch, `${name}.txt`);
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--import', RECORDER, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, RECORD_MODULES_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  try {
    if (ready) await waitFor(() => ready.test(output) || child.exitCode !== null, { what: `${name} to print ${ready}`, timeoutMs: 120_000 });
  } finally {
    if (ready && child.exitCode === null) child.kill('SIGTERM');
  }
  await exited;
  return { modules: readFileSync(file, 'utf8').split('\n'), output };
}

describe('package boundaries: database code stays out of processes without a database (issue 11)', () => {
  it('the recorder sees database modules where they are loaded (control)', async () => {
    const run = await recordModules('control', ['--input-type=module', '-e', "await import('@sre/platform/db');"], {});
    assert.ok(
      run.modules.some((m) => /\/node_modules\/pg\//.test(m)),
      `pg is recorded:\n${run.output}`,
    );
    assert.ok(
      run.modules.some((m) => /\/node_modules\/@electric-sql\/pglite\//.test(m)),
      'PGlite is recorded',
    );
    assert.ok(
      run.modules.some((m) => /\/node_modules\/kysely\//.test(m)),
      'Kysely is recorded',
    );
  });

  it('a running gateway process has loaded no pg, Kysely, PGlite or platform database module', async () => {
    const webRoot = mkdtempSync(join(scratch, 'web-'));
    const run = await recordModules(
      'gateway',
      ['services/gateway/src/main.ts'],
      {
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        MANAGEMENT_PORT: String(await freePort()),
        WEB_ROOT: webRoot,
        DRAIN_DELAY_MS: '0',
        LOG_LEVEL: 'info',
        NODE_ENV: 'development',
      },
      /"msg":"service started"/,
    );
    assert.match(run.output, /"msg":"service started"/);
    assert.ok(
      run.modules.some((m) => m.endsWith('/services/gateway/src/app.ts')),
      'the recorder saw the gateway itself',
    );
    assert.ok(
      run.modules.some((m) => m.endsWith('/packages/platform/src/index.ts')),
      'and the platform',
    );
    assert.deepEqual(
      run.modules.filter((m) => DATABASE_MODULE.test(m)),
      [],
    );
  });

  it('Images with local storage (the npm start default) has not loaded the AWS SDK; with S3 it has', async () => {
    const env = async (driver: 'local' | 's3'): Promise<NodeJS.ProcessEnv> => ({
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      MANAGEMENT_PORT: String(await freePort()),
      STORAGE_DRIVER: driver,
      STORAGE_LOCAL_DIR: mkdtempSync(join(scratch, 'objects-')),
      // Nothing listens there: the S3 driver only has to be constructed, readiness may fail.
      S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      S3_BUCKET: 'images',
      S3_ACCESS_KEY_ID: 'test',
      S3_SECRET_ACCESS_KEY: 'test',
      AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/.well-known/jwks.json`,
      DRAIN_DELAY_MS: '0',
      LOG_LEVEL: 'info',
    });
    const awsSdk = (run: Run) => run.modules.filter((m) => /\/node_modules\/@aws-sdk\//.test(m));
    const local = await recordModules('images-local', ['services/images/src/main.ts'], await env('local'), /"msg":"service started"/);
    assert.match(local.output, /"msg":"service started"/);
    assert.deepEqual(awsSdk(local), []);
    const s3 = await recordModules('images-s3', ['services/images/src/main.ts'], await env('s3'), /"msg":"service started"/);
    assert.match(s3.output, /"msg":"service started"/);
    assert.ok(awsSdk(s3).length > 0, 'the S3 driver loads the SDK (control)');
  });
});
