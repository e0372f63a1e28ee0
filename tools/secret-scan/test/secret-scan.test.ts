import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scanRepository, scanText } from '../scan.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('secret scan', () => {
  it('finds no secret in any file the repository would publish', () => {
    const findings = scanRepository(root);
    assert.deepEqual(findings, [], `secrets found:\n${findings.map((f) => `${f.file}:${f.line} ${f.rule}`).join('\n')}`);
  });

  it('never tracks generated secret files', () => {
    const tracked = execFileSync('git', ['ls-files', 'k8s/secrets.yaml', '.data', 'k8s/tls'], { cwd: root }).toString().trim();
    assert.equal(tracked, '');
  });

  // The scanner itself must be able to fail: feed it real-looking secrets made at run time.
  it('detects a freshly generated private key, credentials in URLs, and tokens', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const fakeJwt = `eyJ${'a'.repeat(20)}.eyJ${'b'.repeat(20)}.${'c'.repeat(43)}`;
    const text = [
      pem,
      `DATABASE_URL=postgres://auth:${randomBytes(9).toString('hex')}@db:5432/auth`,
      `token: ${fakeJwt}`,
      `aws_access_key_id = AKIA${'Q'.repeat(16)}`,
      `webhook: https://hooks.slack.com/services/T${'0'.repeat(8)}/B${'1'.repeat(8)}/${'x'.repeat(24)}`,
    ].join('\n');
    const rules = scanText('sample', text)
      .map((f) => f.rule)
      .sort();
    assert.deepEqual(rules, ['aws-access-key-id', 'jwt', 'private-key', 'slack-webhook', 'url-with-password']);
  });

  it('accepts placeholders and variable references', () => {
    const text = ['DATABASE_URL: postgres://auth:CHANGE_ME@postgres:5432/auth', 'url: postgres://user:${PASSWORD}@host/db', 'JWT_PRIVATE_KEY: CHANGE_ME'].join(
      '\n',
    );
    assert.deepEqual(scanText('sample', text), []);
  });
});
