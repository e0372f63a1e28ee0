import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Launcher, type LauncherOptions } from '../src/launcher.js';
import type { components } from '@sre/web/api-types';

/** Limits raised for tests: one client (127.0.0.1) makes hundreds of requests here. */
export const TEST_ENV: NodeJS.ProcessEnv = {
  RATE_LIMIT_MAX: '100000',
  AUTH_RATE_LIMIT_MAX: '100000',
  LOGIN_THROTTLE_IP_FREE_ATTEMPTS: '100000',
  LOG_LEVEL: 'info',
  // A short half-open delay so recovery after an outage is seen quickly.
  BREAKER_HALF_OPEN_AFTER_MS: '1000',
  // Not to whatever listens on 127.0.0.1:4318 on this machine (npm start's default); tracing.test.ts turns it on.
  OTEL_SDK_DISABLED: 'true',
};

export interface RunningPlatform {
  launcher: Launcher;
  url: string;
  output: string[];
  dataDir: string;
  stop(): Promise<void>;
}

export async function startPlatform(options: Partial<LauncherOptions> = {}): Promise<RunningPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sre-launcher-'));
  const output: string[] = [];
  const launcher = new Launcher({
    port: 0,
    dataDir,
    env: { ...process.env, ...TEST_ENV, ...options.env },
    say: (line) => output.push(line),
    initialBackoffMs: 200,
    ...options,
  });
  try {
    await launcher.start();
  } catch (err) {
    await launcher.stop();
    throw new Error(`${(err as Error).message}\n${output.join('\n')}`);
  }
  const url = `http://127.0.0.1:${launcher.state.services.gateway.url.split(':').at(-1)}`;
  return {
    launcher,
    url,
    output,
    dataDir,
    async stop() {
      await launcher.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  raw: Buffer;
}

export interface ErrorShape {
  error: { code: string; message: string; requestId: string };
}

export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const raw = Buffer.from(await res.arrayBuffer());
  let parsed: unknown = raw;
  if ((res.headers.get('content-type') ?? '').includes('application/json') && raw.length > 0) parsed = JSON.parse(raw.toString());
  return { status: res.status, headers: res.headers, body: parsed as T, raw };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

let userCounter = 0;
export function newEmail(prefix = 'user'): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++userCounter}@example.test`;
}

export async function registerAndLogin(
  base: string,
  email = newEmail(),
  password = 'correct horse battery',
): Promise<Tokens & { email: string; password: string }> {
  const reg = await call(base, 'POST', '/api/auth/register', { json: { email, password } });
  if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${reg.raw.toString()}`);
  const login = await call<Tokens>(base, 'POST', '/api/auth/login', { json: { email, password } });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${login.raw.toString()}`);
  return { ...login.body, email, password };
}

export async function pngImage(width = 64, height = 48, color = { r: 200, g: 40, b: 40 }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();
}

export async function jpegImage(width = 80, height = 60): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 20, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
}

export function uploadForm(parts: Array<{ name: string; data: Buffer | string; filename?: string; type?: string }>): FormData {
  const form = new FormData();
  for (const part of parts) {
    if (part.filename !== undefined)
      form.append(
        part.name,
        new Blob([typeof part.data === 'string' ? part.data : new Uint8Array(part.data)], { type: part.type ?? 'application/octet-stream' }),
        part.filename,
      );
    else form.append(part.name, String(part.data));
  }
  return form;
}

export async function upload(base: string, token: string, data: Buffer, filename: string, type = 'image/png') {
  return call<components['schemas']['Image']>(base, 'POST', '/api/images', {
    token,
    body: uploadForm([{ name: 'file', data, filename, type }]),
  });
}

/** The client address a service logged for one request (its "request completed" line), waiting for the log to be written. */
export async function clientIpLogged(dataDir: string, service: string, requestId: string): Promise<string | undefined> {
  const file = join(dataDir, 'logs', `${service}.log`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const line = existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .find((l) => l.includes(requestId) && l.includes('request completed'))
      : undefined;
    if (line) return (JSON.parse(line) as { clientIp?: string }).clientIp;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
