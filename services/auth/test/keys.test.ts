import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK } from 'jose';
import { generateSigningKeyPair } from '../src/keys.js';
import { startTestAuth, type TestAuth } from './helpers.js';

describe('signing keys', () => {
  it('generateSigningKeyPair returns Ed25519 PEMs whose kid is the RFC 7638 thumbprint', async () => {
    const pair = generateSigningKeyPair();
    assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(createPrivateKey(pair.privateKeyPem).asymmetricKeyType, 'ed25519');
    assert.equal(pair.kid, await calculateJwkThumbprint(await exportJWK(createPublicKey(pair.publicKeyPem)), 'sha256'));
    assert.notEqual(generateSigningKeyPair().kid, pair.kid);
  });
});

describe('key rotation through JWT_PREVIOUS_PUBLIC_KEYS', () => {
  const previous = generateSigningKeyPair();
  const current = generateSigningKeyPair();
  let auth: TestAuth;
  before(async () => {
    auth = await startTestAuth({ JWT_PRIVATE_KEY: current.privateKeyPem, JWT_PREVIOUS_PUBLIC_KEYS: previous.publicKeyPem });
  });
  after(() => auth.close());

  it('publishes current and previous keys, signs with the current one, and still accepts tokens of the previous one', async () => {
    const jwks = (await auth.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid: string }> };
    assert.deepEqual(
      jwks.keys.map((k) => k.kid),
      [current.kid, previous.kid],
    );
    const email = 'rotation@example.com';
    const reg = await auth.app.inject({ method: 'POST', url: '/register', payload: { email, password: 'correct horse battery' } });
    const { id } = reg.json() as { id: string };
    const login = (await auth.app.inject({ method: 'POST', url: '/login', payload: { email, password: 'correct horse battery' } })).json() as {
      accessToken: string;
    };
    assert.equal(JSON.parse(Buffer.from(login.accessToken.split('.')[0]!, 'base64url').toString()).kid, current.kid);
    // A token issued by a replica still on the previous key, before the rollout finished.
    const old = await new SignJWT({ email })
      .setProtectedHeader({ alg: 'EdDSA', kid: previous.kid, typ: 'at+jwt' })
      .setIssuer('sre-platform-auth')
      .setAudience('sre-platform')
      .setSubject(id)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('22222222-2222-4222-8222-222222222222')
      .sign(createPrivateKey(previous.privateKeyPem));
    const res = await auth.app.inject({ url: '/me', headers: { authorization: `Bearer ${old}` } });
    assert.equal(res.statusCode, 200, res.body);
  });
});
