import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '@sre/testkit';
import { REPO_ROOT } from '../src/launcher.js';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../src/lock.js';
import { postgresCanReach } from '../src/postgres.js';
import { findRunningPlatform, STATE_FILE } from '../src/state-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sre-datadir-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The pid of a Node process that has exited: what a lock or state file holds after a crash. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the data folder lock (issue 15 item 11)', () => {
  it('refuses a second holder and names the process that holds the folder', () => {
    const dir = tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: holder.pid, startedAt: '2026-01-01T00:00:00.000Z', command: 'tools/launcher/main.ts' }));
      assert.throws(
        () => lockDataDir(dir),
        (err: Error) => err instanceof DataDirLockedError && err.message.includes(`pid ${holder.pid}`) && err.message.includes(dir),
      );
      assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, holder.pid, 'the holder keeps its lock');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a stale lock whose process is dead, and release removes only its own lock', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), startedAt: '2026-01-01T00:00:00.000Z', command: 'x' }));
    const lock = lockDataDir(dir);
    assert.equal(JSON.parse(readFileSync(lock.file, 'utf8')).pid, process.pid);
    lock.release();
    assert.equal(existsSync(lock.file), false);
    lock.release();
  });
});

describe('launcher.json (issue 15 items 12 and 17)', () => {
  it('counts a missing file, a dead launcher and dead services as no running platform', () => {
    const dir = tempDir();
    assert.match((findRunningPlatform(dir) as { reason: string }).reason, /no platform is running/);
    const state = {
      pid: deadPid(),
      appUrl: 'http://localhost:1',
      dataDir: dir,
      services: { gateway: { url: 'x', instances: [{ label: 'gateway', port: 1, managementPort: 2, pid: process.pid, managementUrl: 'x' }] } },
    };
    writeFileSync(join(dir, STATE_FILE), JSON.stringify(state));
    assert.match((findRunningPlatform(dir) as { reason: string }).reason, /is stale: its launcher \(pid \d+\) is not running/);
    writeFileSync(
      join(dir, STATE_FILE),
      JSON.stringify({
        ...state,
        pid: process.pid,
        services: { gateway: { ...state.services.gateway, instances: [{ ...state.services.gateway.instances[0], pid: deadPid() }] } },
      }),
    );
    assert.match((findRunningPlatform(dir) as { reason: string }).reason, /no running service process/);
    writeFileSync(join(dir, STATE_FILE), JSON.stringify({ ...state, pid: process.pid }));
    assert.equal(findRunningPlatform(dir).running, true);
  });
});

describe('npm start with a port already taken (issue 15 item 17)', () => {
  let blocker: Server | undefined;
  after(() => blocker?.close());

  it('exits naming the port before it generates a signing key or writes anything else', async () => {
    const dir = tempDir();
    const port = await freePort();
    const managementPort = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port + 2, '127.0.0.1', resolve));
    const child = spawn(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        'tools/launcher/main.ts',
        '--port',
        String(port),
        '--management-port',
        String(managementPort),
        '--data-dir',
        dir,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, JWT_PRIVATE_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`port ${port + 2} \\(images\\) is in use`));
    assert.equal(existsSync(join(dir, 'keys')), false, 'no signing key was generated');
    assert.equal(existsSync(join(dir, 'logs')), false, 'no log folder was made');
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'the lock was released');
  });
});

describe('the local database choice (issue 11 footprint)', () => {
  it('as root, counts a folder below a private (0700) folder as out of reach of the postgres user', () => {
    const privateDir = tempDir(); // mkdtemp makes it 0700
    const inside = join(privateDir, 'data');
    const isRoot = process.getuid?.() === 0;
    assert.equal(postgresCanReach(inside), !isRoot, 'root runs the server as postgres, which cannot enter a 0700 folder');
    assert.equal(postgresCanReach(join(privateDir)), true, 'its parent (the temp folder) is open to everyone');
  });

  it('refuses an unknown --database value before doing anything', () => {
    const dir = tempDir();
    const run = spawnSync(
      process.execPath,
      ['--conditions=development', '--import', 'tsx', 'tools/launcher/main.ts', '--database', 'sqlite', '--data-dir', dir],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--database expects postgres or pglite \(got "sqlite"\)/);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });
});
