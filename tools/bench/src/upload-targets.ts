import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Launcher } from '@sre/launcher/launcher';
import { freePort } from '@sre/testkit';
import { waitFor } from './measure.js';

/** Where an upload goes and where its liveness is probed, plus how to stop it. */
export interface UploadTarget {
  uploadUrl: string;
  headers: Record<string, string>;
  livezUrl: string;
  /** The Images service's Prometheus endpoint (ours only), for the per-operation breakdown. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

const REFERENCE_DIR = fileURLToPath(new URL('../reference/', import.meta.url));
const PREPARE = fileURLToPath(new URL('../prepare.sh', import.meta.url));

/** Installs (root) or names the FastAPI + Pillow packages; a missing reference fails the suite, naming it. */
export function ensureReferenceInstalled(): void {
  const run = spawnSync('bash', [PREPARE, 'uploads'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the FastAPI + Pillow reference is not installed: ${(run.stderr || run.stdout).trim()}`);
}

/** FastAPI + Pillow under Debian's /usr/bin/python3, 2 uvicorn workers (tools/bench/reference/upload_service.py). */
export async function startFastApiReference(): Promise<UploadTarget> {
  const port = await freePort();
  const uploadDir = mkdtempSync(join(tmpdir(), 'bench-fastapi-'));
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-m', 'uvicorn', 'upload_service:app', '--workers', '2', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning', '--no-access-log'],
    {
      cwd: REFERENCE_DIR,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', UPLOAD_DIR: uploadDir, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    rmSync(uploadDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`http://127.0.0.1:${port}/livez`, 30_000, 'the FastAPI reference');
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return { uploadUrl: `http://127.0.0.1:${port}/upload`, headers: {}, livezUrl: `http://127.0.0.1:${port}/livez`, stop };
}

/**
 * The platform as `npm start` runs it (tools/launcher: auth, images and gateway as child processes,
 * embedded PGlite, local storage folder), with a user signed up through the gateway.
 */
export async function startPlatform(): Promise<UploadTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-platform-'));
  const output: string[] = [];
  const launcher = new Launcher({
    port: 0,
    dataDir,
    // One client makes every request: the per-IP limits would measure themselves, not the upload path.
    env: { ...process.env, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000', AUTH_RATE_LIMIT_MAX: '1000000', LOGIN_THROTTLE_IP_FREE_ATTEMPTS: '100000' },
    say: (line) => output.push(line),
    // Shared, loaded machines start PGlite and three Node processes slowly.
    readyTimeoutMs: 300_000,
  });
  const stop = async () => {
    await launcher.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const state = await launcher.start();
    const base = state.services.gateway.url;
    const email = `bench-${Date.now()}@example.test`;
    const password = 'bench password, long enough';
    const register = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (register.status !== 201) throw new Error(`register answered ${register.status}: ${await register.text()}`);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const images = state.services.images.instances[0]!;
    return {
      uploadUrl: `${base}/api/images`,
      headers: { authorization: `Bearer ${accessToken}` },
      livezUrl: `${images.managementUrl}/livez`,
      metricsUrl: `${images.managementUrl}/metrics`,
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.join('\n')}`);
  }
}
