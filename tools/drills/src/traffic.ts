import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { PhaseName, TrafficClass, TrafficSample } from './types.js';

/**
 * Synthetic user traffic through the gateway, the way a user's browser would use the platform:
 * one drill user registers, logs in and uploads a small picture; then, at a steady rate, requests
 * rotate through the classes a drill judges separately:
 *   auth    — GET /api/auth/me (Auth answers) and, every few seconds, a real login;
 *   images  — GET /api/images (Images and its database answer);
 *   storage — GET /api/images/:id/thumbnail (object storage answers).
 * Bounded: at most `maxInFlight` requests at once, each with a timeout, and it stops when told.
 */

export interface TrafficOptions {
  gatewayUrl: string;
  /** Requests per second over all classes. */
  ratePerSecond?: number;
  /** A real login every this many ms (argon2 is deliberately expensive). */
  loginEveryMs?: number;
  requestTimeoutMs?: number;
  maxInFlight?: number;
  /** Time origin (ms, Date.now()) of the drill; samples carry t relative to it. */
  origin: number;
  phase: () => PhaseName;
  onSample?: (s: TrafficSample) => void;
}

export interface Traffic {
  readonly samples: TrafficSample[];
  readonly user: { email: string; imageId?: string };
  stop(): Promise<void>;
}

/** A valid 16×16 PNG made here, so no binary fixture is committed. */
export function tinyPng(): Buffer {
  const width = 16;
  const height = 16;
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([x * 16, y * 16, 128], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface Answer {
  status: number;
  body: unknown;
  latencyMs: number;
  code?: string;
  traceId: string;
}

/**
 * Every request starts its own trace, sampled (W3C Trace Context, https://www.w3.org/TR/trace-context/),
 * so a failed request in the report leads to the trace that shows which hop failed.
 */
export function newTraceparent(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  const { traceId, traceparent } = newTraceparent();
  try {
    const res = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), traceparent },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
    return { status: res.status, body, latencyMs: performance.now() - started, traceId, ...(code ? { code } : {}) };
  } catch (err) {
    const name = err instanceof Error ? (err.name === 'TimeoutError' ? 'TIMEOUT' : 'CONNECTION_FAILED') : 'FAILED';
    return { status: 0, body: undefined, latencyMs: performance.now() - started, code: name, traceId };
  }
}

/** Registers the drill user and prepares its picture; throws with the gateway's answer when it cannot. */
async function setUp(base: string, timeoutMs: number) {
  const email = `drill-${randomBytes(6).toString('hex')}@drills.example`;
  const password = randomBytes(18).toString('base64url');
  const json = { 'content-type': 'application/json' };
  const reg = await call(`${base}/api/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) }, timeoutMs);
  if (reg.status !== 201) throw new Error(`cannot register the drill user through the gateway: ${reg.status} ${reg.code ?? ''}`.trim());
  const login = async () => {
    const res = await call(`${base}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) }, timeoutMs);
    const token = (res.body as { accessToken?: string } | undefined)?.accessToken;
    return { res, token };
  };
  const first = await login();
  if (!first.token) throw new Error(`cannot log the drill user in through the gateway: ${first.res.status} ${first.res.code ?? ''}`.trim());
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(tinyPng())], { type: 'image/png' }), 'drill.png');
  const up = await call(`${base}/api/images`, { method: 'POST', headers: { authorization: `Bearer ${first.token}` }, body: form }, timeoutMs * 2);
  const imageId = (up.body as { id?: string } | undefined)?.id;
  if (up.status !== 201 || !imageId) throw new Error(`cannot upload the drill picture through the gateway: ${up.status} ${up.code ?? ''}`.trim());
  return { email, login, token: first.token, imageId };
}

export async function startTraffic(options: TrafficOptions): Promise<Traffic> {
  const base = options.gatewayUrl.replace(/\/$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const rate = options.ratePerSecond ?? 8;
  const loginEveryMs = options.loginEveryMs ?? 4000;
  const maxInFlight = options.maxInFlight ?? 16;
  const user = await setUp(base, timeoutMs);
  let token = user.token;
  const samples: TrafficSample[] = [];
  let inFlight = 0;
  let stopped = false;
  let lastLogin = Date.now();
  let lastRelogin = 0;
  const pending = new Set<Promise<void>>();
  const cycle: TrafficClass[] = ['auth', 'images', 'storage', 'images'];
  let tick = 0;

  const record = (cls: TrafficClass, route: string, answer: Answer, okStatuses: number[]) => {
    const sample: TrafficSample = {
      t: Date.now() - options.origin,
      cls,
      route,
      status: answer.status,
      ok: okStatuses.includes(answer.status),
      latencyMs: Math.round(answer.latencyMs * 10) / 10,
      phase: options.phase(),
      ...(answer.code ? { code: answer.code } : {}),
      traceId: answer.traceId,
    };
    samples.push(sample);
    options.onSample?.(sample);
  };

  const oneRequest = async (cls: TrafficClass) => {
    const auth = { authorization: `Bearer ${token}` };
    if (cls === 'auth' && Date.now() - lastLogin >= loginEveryMs) {
      lastLogin = Date.now();
      const { res, token: fresh } = await user.login();
      if (fresh) token = fresh;
      record('auth', 'POST /api/auth/login', res, [200]);
      return;
    }
    if (cls === 'auth') {
      record('auth', 'GET /api/auth/me', await call(`${base}/api/auth/me`, { headers: auth }, timeoutMs), [200]);
      return;
    }
    const route = cls === 'images' ? 'GET /api/images' : 'GET /api/images/:id/thumbnail';
    const url = cls === 'images' ? `${base}/api/images?limit=5` : `${base}/api/images/${user.imageId}/thumbnail`;
    const answer = await call(url, { headers: auth }, timeoutMs);
    record(cls, route, answer, [200, 304]);
    // The access token expired (a long drill): log in again, at most every few seconds.
    if (answer.status === 401 && Date.now() - lastRelogin > 3000) {
      lastRelogin = Date.now();
      const { token: fresh } = await user.login();
      if (fresh) token = fresh;
    }
  };

  const timer = setInterval(
    () => {
      if (stopped || inFlight >= maxInFlight) return;
      const cls = cycle[tick++ % cycle.length] as TrafficClass;
      inFlight++;
      const p = oneRequest(cls).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    },
    Math.max(10, Math.round(1000 / rate)),
  );

  return {
    samples,
    user: { email: user.email, imageId: user.imageId },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

export interface TrafficSummary {
  total: number;
  ok: number;
  successRatio: number;
  p50Ms: number;
  p95Ms: number;
  failureP95Ms: number;
  statuses: Record<string, number>;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function summarize(samples: readonly TrafficSample[]): TrafficSummary {
  const ok = samples.filter((s) => s.ok);
  const failed = samples.filter((s) => !s.ok);
  const statuses: Record<string, number> = {};
  for (const s of samples) {
    const key = s.status === 0 ? (s.code ?? 'no answer') : String(s.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  return {
    total: samples.length,
    ok: ok.length,
    successRatio: samples.length === 0 ? 1 : ok.length / samples.length,
    p50Ms: percentile(
      samples.map((s) => s.latencyMs),
      50,
    ),
    p95Ms: percentile(
      samples.map((s) => s.latencyMs),
      95,
    ),
    failureP95Ms: percentile(
      failed.map((s) => s.latencyMs),
      95,
    ),
    statuses,
  };
}

export function describeSummary(s: TrafficSummary): string {
  const statuses = Object.entries(s.statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(', ');
  return `${s.ok}/${s.total} ok (${(s.successRatio * 100).toFixed(1)}%), p50 ${Math.round(s.p50Ms)} ms, p95 ${Math.round(s.p95Ms)} ms; statuses ${statuses || 'none'}`;
}
