import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadSigningKeys, publicKeyPemFromPrivate } from '../src/keys.js';

// Three real processes: the inner loop (npm run test:unit) leaves this file out.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cli = (args: string[], input?: string) =>
  execFileSync(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/auth/src/cli/generate-key.ts', ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
  });

describe('the signing-key CLI (services/auth/src/cli/generate-key.ts)', () => {
  it('prints a usable private key, JSON, or the public half of a key on stdin', () => {
    const pem = cli([]);
    assert.doesNotThrow(() => loadSigningKeys(pem, undefined));
    const json = JSON.parse(cli(['--json'])) as { privateKeyPem: string; publicKeyPem: string; kid: string };
    assert.equal(loadSigningKeys(json.privateKeyPem, undefined).kid, json.kid);
    assert.equal(cli(['--public'], json.privateKeyPem), json.publicKeyPem);
    assert.equal(publicKeyPemFromPrivate(json.privateKeyPem), json.publicKeyPem);
  });
});
