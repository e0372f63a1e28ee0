import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitFor } from './net.js';
import { requireEnv } from './tools.js';

/**
 * Two kinds of real PostgreSQL for tests:
 * - `createTestDatabase()`: a fresh database in the shared server that `npm test` starts
 *   (TEST_POSTGRES_URL), for ordinary tests; dropped afterwards.
 * - `startEphemeralPostgres()`: a private server for fault tests that stop and restart it.
 */

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

const ADMIN_HINT = 'tools/test/run.sh starts PostgreSQL and sets it';

export function testPostgresUrl(): string | undefined {
  return requireEnv('TEST_POSTGRES_URL', ADMIN_HINT);
}

export async function createTestDatabase(adminUrl: string, prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A database for a test that does not care which kind it gets; see `defaultTestDatabase`. */
export interface DefaultTestDatabase {
  /** What to put in the service's environment: DATABASE_URL, or nothing (embedded PGlite in memory). */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * The database for a test that does not name one: a fresh database on the test PostgreSQL server when
 * there is one (npm test, test:unit), else PGlite in memory as the services default to. A PGlite
 * instance costs seconds of CPU to start and the suites build dozens of apps; a database on the shared
 * server costs milliseconds. PGlite keeps its own coverage in the suites that name it (backends(),
 * the Images API variants).
 */
export async function defaultTestDatabase(prefix: string): Promise<DefaultTestDatabase> {
  const adminUrl = testPostgresUrl();
  if (!adminUrl) return { env: {}, drop: async () => undefined };
  const database = await createTestDatabase(adminUrl, prefix);
  return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
}

/**
 * Why a suite that exists to cover embedded PGlite is skipped, or false. `npm run test:unit` sets
 * TEST_PGLITE=skip: each PGlite instance costs seconds of CPU, and the inner loop runs the same suites
 * on PostgreSQL. The full `npm test` (and CI) runs them.
 */
export function pgliteSuiteSkip(): string | false {
  return process.env.TEST_PGLITE === 'skip' ? 'TEST_PGLITE=skip (npm run test:unit): the PGlite variants run in the full npm test' : false;
}

function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root (the server refuses root). */
function asPostgres(bin: string, args: string[]): { cmd: string; args: string[] } {
  return isRoot ? { cmd: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { cmd: bin, args };
}

const TEMPLATE_DIR = join(tmpdir(), 'sre-platform-pg-template');

/** initdb once per machine; later servers copy the template (a copy is much faster than initdb). */
function ensureTemplate(bin: string): void {
  if (existsSync(join(TEMPLATE_DIR, 'PG_VERSION'))) return;
  const staging = mkdtempSync(join(tmpdir(), 'sre-pg-init-'));
  if (isRoot) execFileSync('chown', ['postgres:postgres', staging]);
  const { cmd, args } = asPostgres(join(bin, 'initdb'), ['-D', staging, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  execFileSync(cmd, args, { stdio: 'ignore' });
  rmSync(TEMPLATE_DIR, { recursive: true, force: true });
  cpSync(staging, TEMPLATE_DIR, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
}

export interface EphemeralPostgres {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startEphemeralPostgres(): Promise<EphemeralPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  ensureTemplate(bin);
  const dataDir = mkdtempSync(join(tmpdir(), 'sre-pg-'));
  cpSync(TEMPLATE_DIR, dataDir, { recursive: true });
  if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
  execFileSync('chmod', ['700', dataDir]);
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n');
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const ready = async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query('select 1');
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  const server = {
    url,
    port,
    async start() {
      const { cmd, args } = asPostgres(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir]);
      child = spawn(cmd, args, { stdio: 'ignore' });
      await waitFor(ready, { timeoutMs: 20_000, what: `PostgreSQL on port ${port}` });
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      // SIGINT is PostgreSQL's "fast shutdown": clients are disconnected at once, as in an outage.
      // runuser does not forward SIGINT, so signal the server itself (its pid is the first line of
      // postmaster.pid); without runuser the child is the server.
      let serverPid = 0;
      try {
        serverPid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        // no pid file: the server never came up; signal the child
      }
      if (Number.isInteger(serverPid) && serverPid > 0) process.kill(serverPid, 'SIGINT');
      else running.kill('SIGINT');
      await exited;
      child = undefined;
    },
    async destroy() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
