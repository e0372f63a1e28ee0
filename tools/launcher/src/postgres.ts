import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/**
 * A private PostgreSQL server kept in the data folder, for running several instances of a service
 * on one machine: embedded PGlite is single-process, so instances that share data need a real
 * server (as they do in the cluster). Started only for `--instances NAME=N` with N > 1 when no
 * DATABASE_URL was given; needs the PostgreSQL server binaries (Debian: postgresql).
 */

function newestVersion(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0];
}

/** Whether the PostgreSQL server binaries (Debian: postgresql) are installed. */
export function hasPostgresServer(): boolean {
  return newestVersion() !== undefined;
}

const isRoot = process.getuid?.() === 0;

/**
 * Run as root, the server runs as the `postgres` user, which must be able to enter every folder
 * above its data folder (a data folder under /root or a mkdtemp folder is out of its reach).
 */
export function postgresCanReach(dir: string): boolean {
  if (!isRoot) return true;
  for (let current = dirname(resolve(dir)); ; current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = [newestVersion()];
  if (!versions[0]) {
    throw new Error(
      'several instances of a service need PostgreSQL (PGlite is single-process): install the server (apt-get install postgresql) or set DATABASE_URL',
    );
  }
  return join(root, versions[0], 'bin');
}

const asPostgres = (bin: string, args: string[]) => (isRoot ? { cmd: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { cmd: bin, args });

export interface LocalPostgres {
  /** URL of a database (created when missing). */
  databaseUrl(name: string): Promise<string>;
  stop(): Promise<void>;
  /** Synchronous immediate stop, for the launcher's exit hook. */
  stopNow(): void;
}

export async function startLocalPostgres(dataDir: string, port: number, say: (line: string) => void): Promise<LocalPostgres> {
  const bin = binDir();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    say(`[launcher] creating a local PostgreSQL cluster in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    // Run as root, the server runs as `postgres`, which must be able to enter the data folder.
    if (isRoot) chmodSync(dirname(dataDir), statSync(dirname(dataDir)).mode | 0o011);
    if (isRoot) execFileSync('chown', ['postgres:postgres', dataDir]);
    const init = asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    // stderr piped: a failure's message then carries initdb's own words.
    execFileSync(init.cmd, init.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(join(dataDir, 'postgresql.auto.conf'), "listen_addresses = '127.0.0.1'\nmax_connections = 100\n");
    if (isRoot) execFileSync('chown', ['postgres:postgres', join(dataDir, 'postgresql.auto.conf')]);
  }
  // Sized for one machine (docs/local.md "Footprint"): small shared buffers, enough connections
  // for every service instance's pool (10 each).
  const tuning = ['-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'work_mem=2MB'];
  const run = asPostgres(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, ...tuning]);
  // The server's own messages (a port taken, a folder it cannot enter) go to `<dataDir>.log`, beside the
  // data folder: a failed start quotes them.
  const logFile = `${dataDir}.log`;
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(run.cmd, run.args, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        const said = readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
        throw new Error(`local PostgreSQL did not start: ${(err as Error).message}${said ? `\n${logFile}:\n${said}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return {
    async databaseUrl(name) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    // pg_ctl rather than a signal through runuser: runuser does not reliably forward signals to a
    // server in its own session, and pg_ctl waits until the server is down.
    async stop() {
      if (child.exitCode !== null) return;
      const ctl = asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']);
      try {
        execFileSync(ctl.cmd, ctl.args, { stdio: 'ignore' });
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    },
    stopNow() {
      if (child.exitCode !== null) return;
      const ctl = asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']);
      try {
        execFileSync(ctl.cmd, ctl.args, { stdio: 'ignore' });
      } catch {
        // nothing more we can do while exiting
      }
    },
  };
}
