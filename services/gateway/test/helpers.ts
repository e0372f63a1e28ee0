import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { parseConfig } from '@sre/platform';
import { captureLogs } from '@sre/testkit';
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
