import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@sre/platform';
import { defaultTestDatabase } from '@sre/testkit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import S3rver from 's3rver';
import { buildApp, type AppDeps, type ImagesApp } from '../src/app.js';
import { configSchema, type Config } from '../src/config.js';

/** Mints access tokens like the Auth service and serves its JWKS on loopback. */
export interface TokenIssuer {
  readonly jwksUrl: string;
  token(sub: string, options?: { expiresIn?: string; issuer?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startTokenIssuer(): Promise<TokenIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const jwks = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token: (sub, options = {}) => sign(privateKey, kid, sub, options),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sign(key: CryptoKey, kid: string, sub: string, options: { expiresIn?: string; issuer?: string }): Promise<string> {
  return new SignJWT({ email: `${sub.slice(0, 8)}@example.test` })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer(options.issuer ?? 'sre-platform-auth')
    .setAudience('sre-platform')
    .setSubject(sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(key);
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `images-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(env: Record<string, string | undefined>): Config {
  return parseConfig('images', configSchema, {
    LOG_LEVEL: 'silent',
    READINESS_CACHE_MS: '0',
    READINESS_CHECK_TIMEOUT_MS: '3000',
    DRAIN_DELAY_MS: '0',
    S3_REQUEST_TIMEOUT_MS: '3000',
    ...env,
  }) as Config;
}

/**
 * An Images app, ready. Without DATABASE_URL it gets the default test database (a fresh one on the test
 * PostgreSQL server, see defaultTestDatabase; close() drops it) unless `database: 'pglite'` asks for the
 * embedded one, as the suites that cover PGlite do.
 */
export async function buildTestApp(
  env: Record<string, string | undefined>,
  deps: AppDeps = {},
  { database = 'default' }: { database?: 'default' | 'pglite' } = {},
): Promise<ImagesApp> {
  const testDatabase = env.DATABASE_URL || database === 'pglite' ? undefined : await defaultTestDatabase('images');
  const built = await buildApp(testConfig({ ...testDatabase?.env, ...env }), { collectProcessMetrics: false, cleanupRetryMs: 200, ...deps });
  await built.ready;
  if (!testDatabase) return built;
  const closeApp = built.close;
  return Object.assign(built, {
    async close() {
      await closeApp();
      await testDatabase.drop();
    },
  });
}

/** A real S3-protocol server (s3rver) on loopback that tests can stop and start on the same port. */
export interface S3Server {
  readonly endpoint: string;
  readonly env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startS3Server(bucket = 'images-test'): Promise<S3Server> {
  const dir = tempDir('s3rver');
  let port = 0;
  let server: S3rver | undefined;
  const s3: S3Server = {
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get env() {
      return {
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_BUCKET: bucket,
        S3_REGION: 'us-east-1',
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      };
    },
    async start() {
      server = new S3rver({ port, address: '127.0.0.1', directory: dir.path, silent: true });
      const address = (await server.run()) as AddressInfo;
      port = address.port;
    },
    async stop() {
      const running = server;
      server = undefined;
      if (running) await running.close();
    },
    async destroy() {
      await s3.stop();
      dir.remove();
    },
  };
  await s3.start();
  return s3;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  /** Raw Content-Disposition parameters instead of filename="…" (e.g. RFC 5987 filename*). */
  dispositionParams?: string;
  contentType?: string;
  data: Buffer | string;
}

/** Builds a multipart/form-data body by hand, so tests control every byte of hostile input. */
export function multipart(parts: MultipartPart[]): { body: Buffer; contentType: string } {
  const boundary = `----images-test-${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let disposition = `form-data; name="${part.name}"`;
    if (part.dispositionParams) disposition += `; ${part.dispositionParams}`;
    else if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
    const headers = [`Content-Disposition: ${disposition}`];
    if (part.filename !== undefined || part.dispositionParams) headers.push(`Content-Type: ${part.contentType ?? 'application/octet-stream'}`);
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8'));
    chunks.push(typeof part.data === 'string' ? Buffer.from(part.data) : part.data);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function fileUpload(data: Buffer, filename = 'photo.jpg', contentType = 'image/jpeg') {
  return multipart([{ name: 'file', filename, contentType, data }]);
}

export interface ErrorResponse {
  error: { code: string; message: string; requestId: string };
}

/** Every object key currently in storage. */
export async function allKeys(app: ImagesApp): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of app.storage.list('')) keys.push(o.key);
  return keys.sort();
}
