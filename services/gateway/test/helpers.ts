import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { parseConfig } from '@sre/platform';
import { captureLogs, waitFor } from '@sre/testkit';
import { buildApp, type Gateway } from '../src/app.js';
import { configSchema } from '../src/config.js';

/** An Ed25519 key pair and a JWKS, as the Auth service would publish it. */
export async function createSigner() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const jwks = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
  const sign = (overrides: { sub?: string; exp?: number; iss?: string; aud?: string; key?: CryptoKey; kid?: string } = {}) =>
    new SignJWT({ email: 'user@example.test' })
      .setProtectedHeader({ alg: 'EdDSA', kid: overrides.kid ?? kid, typ: 'at+jwt' })
      .setIssuer(overrides.iss ?? 'sre-platform-auth')
      .setAudience(overrides.aud ?? 'sre-platform')
      .setSubject(overrides.sub ?? '5f0c6f55-8e1a-4d1a-9a55-0d4d2b1c1a11')
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 900)
      .sign(overrides.key ?? privateKey);
  return { jwks, kid, sign };
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, recorded: Recorded) => void | Promise<void>;

/** A small real HTTP server standing in for an upstream; it records what reached it. */
export class FakeUpstream {
  readonly requests: Recorded[] = [];
  #server: Server | undefined;
  port = 0;
  constructor(public handler: UpstreamHandler) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: 0 };
      this.requests.push(recorded);
      req.on('data', (chunk: Buffer) => (recorded.bodyBytes += chunk.length));
      void Promise.resolve(this.handler(req, res, recorded)).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body fully (fake upstreams only; the gateway itself never buffers). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface TestGateway extends Gateway {
  url: string;
  logs: Record<string, unknown>[];
}

/** A gateway listening on a free loopback port, configured like main.ts does from the environment. */
export async function startGateway(env: Record<string, string>): Promise<TestGateway> {
  const config = parseConfig('gateway', configSchema, {
    LOG_LEVEL: 'info',
    DRAIN_DELAY_MS: '0',
    READINESS_CACHE_MS: '0',
    ...env,
  });
  const { lines, destination } = captureLogs();
  const gateway = await buildApp(config, { logDestination: destination, collectProcessMetrics: false });
  const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(gateway, { url, logs: lines });
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

export interface RoutingGateway {
  signer: Awaited<ReturnType<typeof createSigner>>;
  auth: FakeUpstream;
  images: FakeUpstream;
  gateway: TestGateway;
  /** Ends the response Images holds open on /stream. */
  finishStream(): void;
  close(): Promise<void>;
}

/**
 * The routing suite's gateway (routing.test.ts), ready: Auth serves the signer's JWKS and echoes every
 * other request; Images answers 201 with what it received, except /stream, which sends 1 KiB and holds
 * the response open until finishStream(). A web root with index.html and a hashed asset, a 2 MiB upload
 * limit, and our loopback hop as the trusted proxy.
 */
export async function startRoutingGateway(): Promise<RoutingGateway> {
  const signer = await createSigner();
  let streamFinish: () => void = () => undefined;
  const auth = new FakeUpstream(async (req, res) => {
    if (req.url === '/.well-known/jwks.json') return json(res, 200, signer.jwks);
    const body = await readBody(req);
    json(res, 200, { path: req.url, method: req.method, body: body.toString() });
  });
  const images = new FakeUpstream(async (req, res, recorded) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024, 1));
      streamFinish = () => res.end(Buffer.alloc(1024, 2));
      return;
    }
    await readBody(req);
    json(res, 201, { path: req.url, received: recorded.bodyBytes, auth: req.headers.authorization ?? null });
  });
  await auth.start();
  await images.start();
  const webRoot = mkdtempSync(join(tmpdir(), 'gw-web-'));
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(webRoot, 'assets', 'app-abc123.js'), 'console.log(1)');
  const gateway = await startGateway({
    AUTH_URL: auth.url,
    IMAGES_URL: images.url,
    WEB_ROOT: webRoot,
    UPLOAD_LIMIT_BYTES: String(2 * 1024 * 1024),
    TRUST_PROXY: '127.0.0.1',
  });
  await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
  return {
    signer,
    auth,
    images,
    gateway,
    finishStream: () => streamFinish(),
    async close() {
      await gateway.close();
      await auth.stop();
      await images.stop();
      rmSync(webRoot, { recursive: true, force: true });
    },
  };
}

/**
 * A gateway whose Auth answers every request with a placeholder JWKS and whose Images is unreachable
 * (port 1): for suites whose requests stop at the gateway (CORS, rate limits) or reach only Auth.
 */
export async function startStubAuthGateway(env: Record<string, string>): Promise<{ auth: FakeUpstream; gateway: TestGateway; close(): Promise<void> }> {
  const auth = new FakeUpstream((_req, res) => json(res, 200, { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AA', kid: 'k' }] }));
  await auth.start();
  const gateway = await startGateway({ AUTH_URL: auth.url, IMAGES_URL: 'http://127.0.0.1:1', ...env });
  return {
    auth,
    gateway,
    async close() {
      await gateway.close();
      await auth.stop();
    },
  };
}
