import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// A real process per test (seconds each): the inner loop (npm run test:unit) leaves this file out.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const marker = 'SECRETMARKER';
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** The real entry point, as the container runs it (development condition: TypeScript sources). */
function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/auth/src/main.ts'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('auth main.ts with bad configuration (real process)', { concurrency: true }, () => {
  // JWT_PRIVATE_KEY is the only variable without a default.
  it('exits 1 naming a missing JWT_PRIVATE_KEY', async () => {
    const { code, output } = await runMain({});
    assert.equal(code, 1, output);
    assert.match(output, /auth: invalid configuration/);
    assert.match(output, /JWT_PRIVATE_KEY is required/);
    assert.doesNotMatch(output, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('reports every problem at once and prints no secret value', async () => {
    const secretUrl = `postgres://auth:${marker}pw@127.0.0.1:1/auth`;
    const { code, output } = await runMain({
      JWT_PRIVATE_KEY: `${marker}-garbage`,
      DATABASE_URL: secretUrl.replace('postgres:', 'mysql:'),
      PORT: 'eighty',
      ARGON2_MEMORY_KIB: '1024',
    });
    assert.equal(code, 1, output);
    for (const name of ['JWT_PRIVATE_KEY', 'DATABASE_URL', 'PORT', 'ARGON2_MEMORY_KIB']) assert.match(output, new RegExp(`- ${name} `));
    assert.ok(!output.includes(marker), `secret leaked: ${output}`);
  });

  it('exits 1 for a real but wrong-type key without printing it', async () => {
    const { code, output } = await runMain({ JWT_PRIVATE_KEY: rsa });
    assert.equal(code, 1);
    assert.match(output, /JWT_PRIVATE_KEY must be an Ed25519 key/);
    assert.ok(!output.includes(rsa.split('\n')[1]!), 'key material leaked');
  });
});
