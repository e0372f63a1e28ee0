import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JSONWebKeySet, type JWK } from 'jose';
import {
  TokenVerificationError,
  bearerToken,
  createAccessTokenVerifier,
  createLogger,
  remoteKeySource,
  staticKeySource,
  type TokenFailure,
} from '../src/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const ISSUER = 'sre-platform-auth';
const AUDIENCE = 'sre-platform';

interface TestKey {
  privateKey: KeyObject;
  publicPem: string;
  jwk: JWK;
  kid: string;
}

async function newKey(): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' }, kid };
}

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

function sign(key: TestKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, expSeconds = 600): Promise<string> {
  const jwt = new SignJWT({ email: 'a@example.com', iss: ISSUER, aud: AUDIENCE, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...header })
    .setSubject('6f1c1a8e-7d55-4a51-9b1e-0a5d7e1d2c3b')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
    .setJti('4d2c7c7e-1111-4a51-9b1e-0a5d7e1d2c3b');
  return jwt.sign(key.privateKey);
}

async function reasonOf(promise: Promise<unknown>): Promise<TokenFailure | 'accepted'> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    assert.ok(err instanceof TokenVerificationError, String(err));
    return err.reason;
  }
}

describe('bearerToken', () => {
  it('extracts a JWT from "Bearer <token>" (scheme case-insensitive, RFC 7235 §2.1) and nothing else', () => {
    assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c');
    assert.equal(bearerToken('bearer a.b.c'), 'a.b.c');
    assert.equal(bearerToken('Bearer a.b.'), 'a.b.');
    for (const bad of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a.b', 'Bearer a.b.c d', 'Bearer a.b.c.d', ['Bearer a.b.c']]) {
      assert.equal(bearerToken(bad as string | undefined), undefined, String(bad));
    }
  });
});

describe('createAccessTokenVerifier with local keys', () => {
  let key: TestKey;
  let other: TestKey;
  let verify: (token: string | undefined) => Promise<unknown>;
  before(async () => {
    key = await newKey();
    other = await newKey();
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource: staticKeySource({ keys: [key.jwk] }) });
    verify = (t) => verifier.verify(t);
  });

  it('accepts a valid token and returns its claims', async () => {
    const claims = await verify(await sign(key));
    assert.deepEqual(Object.keys(claims as object).sort(), ['email', 'exp', 'iat', 'jti', 'sub']);
    assert.equal((claims as { sub: string }).sub, '6f1c1a8e-7d55-4a51-9b1e-0a5d7e1d2c3b');
  });

  const cases: Array<[string, () => Promise<string | undefined>, TokenFailure]> = [
    ['no token', async () => undefined, 'missing'],
    ['garbage', async () => 'not-a-jwt', 'malformed'],
    ['an expired token', () => sign(key, {}, {}, -3600), 'expired'],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${(await sign(key)).split('.')[1]}.`, 'invalid'],
    [
      'HS256 signed with the public key (algorithm confusion)',
      async () => {
        const input = `${b64({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })}.${(await sign(key)).split('.')[1]}`;
        return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
      },
      'invalid',
    ],
    [
      'a tampered payload',
      async () => {
        const [h, p, s] = (await sign(key)).split('.');
        const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
        return `${h}.${b64({ ...payload, sub: 'someone-else' })}.${s}`;
      },
      'invalid',
    ],
    ['the wrong issuer', () => sign(key, { iss: 'evil' }), 'invalid'],
    ['the wrong audience', () => sign(key, { aud: 'other-platform' }), 'invalid'],
    ['typ JWT instead of at+jwt', () => sign(key, {}, { typ: 'JWT' }), 'invalid'],
    [
      'a missing jti',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('x')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(key.privateKey),
      'invalid',
    ],
    ['a key nobody published', () => sign(other), 'invalid'],
    ['our kid on a foreign signature', () => sign(other, {}, { kid: key.kid }), 'invalid'],
  ];
  for (const [name, make, reason] of cases) {
    it(`refuses ${name} (${reason})`, async () => {
      assert.equal(await reasonOf(verify(await make())), reason);
    });
  }
});

describe('remoteKeySource', () => {
  let server: Server;
  let port: number;
  let served: JSONWebKeySet;
  let status = 200;
  let requests = 0;
  let k1: TestKey;
  let k2: TestKey;

  const listen = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));

  before(async () => {
    k1 = await newKey();
    k2 = await newKey();
    served = { keys: [k1.jwk] };
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    server.keepAliveTimeout = 1;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    if (server.listening) await stop();
  });

  const source = (options: { unknownKeyCooldownMs: number }) =>
    remoteKeySource({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, logger, refreshIntervalMs: 3_600_000, ...options });

  it('loads keys at creation, serves them from memory while the JWKS server is down, and never fetches per request', async () => {
    const keySource = source({ unknownKeyCooldownMs: 0 });
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource });
    try {
      const before = requests;
      await waitUntil(() => keySource.loaded());
      const token = await sign(k1);
      for (let i = 0; i < 5; i++) await verifier.verify(token);
      assert.equal(requests - before, 1, 'one fetch at start, none per verification');

      await stop();
      assert.equal(await reasonOf(verifier.verify(token)), 'accepted', 'cached keys while Auth is down');
      // An unknown kid while the server is down: the refetch fails, the cached keys stay in use.
      assert.equal(await reasonOf(verifier.verify(await sign(k2))), 'invalid');
      assert.equal(await reasonOf(verifier.verify(token)), 'accepted');
    } finally {
      verifier.close();
      if (!server.listening) await listen();
    }
  });

  it('refetches on an unknown kid (key rotation) and then accepts tokens of the new key', async () => {
    served = { keys: [k1.jwk] };
    const keySource = source({ unknownKeyCooldownMs: 0 });
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource });
    try {
      await waitUntil(() => keySource.loaded());
      served = { keys: [k2.jwk, k1.jwk] }; // Auth rotated: k2 signs, k1 still published
      const before = requests;
      assert.equal(await reasonOf(verifier.verify(await sign(k2))), 'accepted');
      assert.equal(requests - before, 1, 'exactly one refetch');
      assert.equal(await reasonOf(verifier.verify(await sign(k1))), 'accepted', 'previous key still valid');
    } finally {
      verifier.close();
    }
  });

  it('rate-limits refetches for unknown kids, so junk tokens cannot flood the Auth service', async () => {
    served = { keys: [k1.jwk] };
    const keySource = source({ unknownKeyCooldownMs: 60_000 });
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource });
    try {
      await waitUntil(() => keySource.loaded());
      const before = requests;
      const stranger = await newKey();
      for (let i = 0; i < 10; i++) assert.equal(await reasonOf(verifier.verify(await sign(stranger))), 'invalid');
      assert.equal(requests - before, 0, 'within the cooldown nothing is refetched');
    } finally {
      verifier.close();
    }
  });

  it('keeps its keys when the JWKS endpoint answers an error or an empty set', async () => {
    served = { keys: [k1.jwk] };
    const keySource = source({ unknownKeyCooldownMs: 0 });
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource });
    try {
      await waitUntil(() => keySource.loaded());
      status = 500;
      await keySource.onUnknownKey();
      status = 200;
      served = { keys: [] };
      const after = await keySource.onUnknownKey();
      assert.deepEqual(
        after.keys.map((k) => k.kid),
        [k1.kid],
      );
      assert.equal(await reasonOf(verifier.verify(await sign(k1))), 'accepted');
    } finally {
      status = 200;
      served = { keys: [k1.jwk] };
      verifier.close();
    }
  });

  it('keeps retrying at start until the first keys arrive, without waiting for a request or the hourly refresh', async () => {
    status = 503;
    const keySource = source({ unknownKeyCooldownMs: 30_000 });
    try {
      const before = requests;
      await waitUntil(() => requests >= before + 2);
      assert.equal(keySource.loaded(), false);
      status = 200;
      // Nothing calls keys(): an instance that served no request before an Auth outage must still have keys.
      await waitUntil(() => keySource.loaded(), 20_000);
    } finally {
      status = 200;
      keySource.close();
    }
  });

  it('reports keys_unavailable (not "invalid") when keys were never loaded', async () => {
    const keySource = remoteKeySource({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json', logger, fetchTimeoutMs: 500 });
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keySource });
    try {
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(keySource.loaded(), false);
      assert.equal(await reasonOf(verifier.verify(await sign(k1))), 'keys_unavailable');
    } finally {
      verifier.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
