import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import { REPO_ROOT, type LauncherState } from '../src/launcher.js';
import { TEST_ENV, call, pngImage, registerAndLogin, upload } from './helpers.js';

interface RunningCli {
  child: ChildProcess;
  output: () => string;
  state: LauncherState;
  base: string;
  exited: Promise<number | null>;
  dataDir: string;
}

const children: ChildProcess[] = [];

/** `npm start` as a user runs it: the launcher as its own process. */
async function startCli(dataDir: string, extraArgs: string[] = []): Promise<RunningCli> {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', 'tools/launcher/main.ts', '--port', '0', '--data-dir', dataDir, ...extraArgs],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...TEST_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A bound, not a speed check: five processes compile and start at once, slowly on a busy machine.
  await waitFor(() => output.includes('Press Ctrl-C to stop.') || child.exitCode !== null, {
    what: 'the launcher to print its URLs',
    timeoutMs: 300_000,
    intervalMs: 200,
  }).catch((err: Error) => {
    throw new Error(`${err.message}; launcher output:\n${output}`);
  });
  assert.equal(child.exitCode, null, output);
  const state = JSON.parse(readFileSync(join(dataDir, 'launcher.json'), 'utf8')) as LauncherState;
  return { child, output: () => output, state, base: `http://127.0.0.1:${new URL(state.appUrl).port}`, exited, dataDir };
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopWithCtrlC(run: RunningCli): Promise<void> {
  const pids = Object.values(run.state.services).flatMap((s) => s.instances.map((i) => i.pid));
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.output());
  assert.match(run.output(), /all services stopped/);
  for (const pid of pids) assert.equal(alive(pid), false, `service process ${pid} is gone`);
  // Left behind, they would describe dead processes to `npm run observe` and the drills (issue 15 item 17).
  assert.equal(existsSync(join(run.dataDir, 'launcher.json')), false, 'launcher.json is removed on Ctrl-C');
  assert.equal(existsSync(join(run.dataDir, 'launcher.lock')), false, 'the data folder lock is released on Ctrl-C');
}

/** A second launcher on the same data folder, on other ports: it must refuse and name the holder. */
async function startSecondLauncher(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'tools/launcher/main.ts', '--port', '0', '--data-dir', dataDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...TEST_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('npm start (the launcher as a process)', () => {
  const dirs: string[] = [];
  after(async () => {
    // A launcher left running by a failed test: Ctrl-C first (it stops its services), then force.
    for (const child of children.filter((c) => c.exitCode === null)) {
      child.kill('SIGINT');
      await waitFor(() => child.exitCode !== null, { what: 'launcher exit', timeoutMs: 30_000 }).catch(() => child.kill('SIGKILL'));
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the app and management URLs, stops everything on Ctrl-C, and keeps the data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sre-cli-'));
    dirs.push(dataDir);
    const first = await startCli(dataDir);
    assert.match(first.output(), /App: {4}http:\/\/localhost:\d+/);
    for (const name of ['gateway', 'auth', 'images']) assert.match(first.output(), new RegExp(`${name} +http://127\\.0\\.0\\.1:\\d+/readyz`));
    const user = await registerAndLogin(first.base);
    const image = await upload(first.base, user.accessToken, await pngImage(12, 12), 'kept.png');
    assert.equal(image.status, 201);

    const second = await startSecondLauncher(dataDir);
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, new RegExp(`data folder .* is in use by another \\\`npm start\\\` \\(pid ${first.child.pid}`));
    const stillServing = await call(first.base, 'GET', '/api/images', { token: user.accessToken });
    assert.equal(stillServing.status, 200, 'the first platform is untouched by the refused second one');
    await stopWithCtrlC(first);

    const restarted = await startCli(dataDir);
    assert.doesNotMatch(restarted.output(), /generated a development signing key/, 'the key made on the first run is reused');
    const login = await call<{ accessToken: string }>(restarted.base, 'POST', '/api/auth/login', { json: { email: user.email, password: user.password } });
    assert.equal(login.status, 200, 'the account survived the restart');
    const again = await call(restarted.base, 'GET', `/api/images/${image.body.id}/content`, { token: user.accessToken });
    assert.equal(again.status, 200, 'the image and the signing key survived the restart (old token still valid)');
    await stopWithCtrlC(restarted);
  });

  it('--instances images=2: two Images processes behind the round-robin share data; one killed, the platform keeps serving', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sre-cli-multi-'));
    dirs.push(dataDir);
    const run = await startCli(dataDir, ['--instances', 'images=2']);
    const instances = run.state.services.images.instances;
    assert.equal(instances.length, 2);
    assert.match(run.output(), /images: 2 instances behind/);
    const user = await registerAndLogin(run.base);
    const image = await upload(run.base, user.accessToken, await pngImage(16, 16), 'shared.png');
    assert.equal(image.status, 201);
    for (const instance of instances) {
      const direct = await call(`http://127.0.0.1:${instance.port}`, 'GET', `/${image.body.id}/content`, { token: user.accessToken });
      assert.equal(direct.status, 200, `${instance.label} sees the image (shared database and storage)`);
    }

    process.kill(instances[0]!.pid!, 'SIGKILL');
    for (let i = 0; i < 6; i++) {
      const res = await call(run.base, 'GET', `/api/images/${image.body.id}`, { token: user.accessToken });
      assert.equal(res.status, 200, `request ${i} while ${instances[0]!.label} is down`);
    }
    await waitFor(() => /images#1 was killed by SIGKILL; restarting/.test(run.output()), { what: 'the crash report', timeoutMs: 10_000 });
    await stopWithCtrlC(run);
  });
});
