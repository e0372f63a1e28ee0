import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK } from 'jose';
import { generateSigningKeyPair, loadSigningKeys, publicKeyPemFromPrivate } from '../src/keys.js';
import { buildTestAuth, testConfig, type TestAuth } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cli = (args: string[], input?: string) =>
  execFileSync(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/auth/src/cli/generate-key.ts', ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
  });

describe('signing keys', () => {
  it('generateSigningKeyPair returns Ed25519 PEMs whose kid is the RFC 7638 thumbprint', async () => {
    const pair = generateSigningKeyPair();
    assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(createPrivateKey(pair.privateKeyPem).asymmetricKeyType, 'ed25519');
    assert.equal(pair.kid, await calculateJwkThumbprint(await exportJWK(createPublicKey(pair.publicKeyPem)), 'sha256'));
    assert.notEqual(generateSigningKeyPair().kid, pair.kid);
  });

  it('the CLI prints a usable private key, JSON, or the public half of a key on stdin', () => {
    const pem = cli([]);
    assert.doesNotThrow(() => loadSigningKeys(pem, undefined));
    const json = JSON.parse(cli(['--json'])) as { privateKeyPem: string; publicKeyPem: string; kid: string };
    assert.equal(loadSigningKeys(json.privateKeyPem, undefined).kid, json.kid);
    assert.equal(cli(['--public'], json.privateKeyPem), json.publicKeyPem);
    assert.equal(publicKeyPemFromPrivate(json.privateKeyPem), json.publicKeyPem);
  });
});

describe('key rotation through JWT_PREVIOUS_PUBLIC_KEYS', () => {
  const previous = generateSigningKeyPair();
  const current = generateSigningKeyPair();
  let auth: TestAuth;
  before(async () => {
    auth = buildTestAuth(testConfig({ JWT_PRIVATE_KEY: current.privateKeyPem, JWT_PREVIOUS_PUBLIC_KEYS: previous.publicKeyPem }));
    await auth.migrated;
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
