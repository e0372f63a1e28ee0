/** `npm run k8s:secrets` and `npm run k8s:tls`: shapes, strength, rotation, and refusal to clobber. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { configSchema as authSchema } from '@sre/auth/config';
import { envSecret } from '@sre/platform';
import { parseManifests } from '../verify/render.js';
import { EXAMPLE_SECRETS_PATH, generateSecrets, main, parseSecretsYaml, REPO_ROOT, renderSecretsYaml, rotateJwt, type SecretManifest } from '../secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'sre-k8s-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const shape = (secrets: readonly { metadata: { name: string; namespace?: string }; stringData?: Record<string, string> }[]) =>
  secrets
    .map(
      (s) =>
        `${s.metadata.namespace}/${s.metadata.name}: ${Object.keys(s.stringData ?? {})
          .sort()
          .join(',')}`,
    )
    .sort();

const appData = (secrets: SecretManifest[]) => secrets.find((s) => s.metadata.name === 'app-secrets')!.stringData;
const quiet = <T>(fn: () => T): T => {
  const { log, error } = console;
  console.log = () => {};
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
    console.error = error;
  }
};

describe('k8s:secrets', () => {
  it('writes exactly the Secrets and keys of k8s/secrets.example.yaml', () => {
    const example = parseManifests(readFileSync(EXAMPLE_SECRETS_PATH, 'utf8'), 'secrets.example.yaml') as unknown as SecretManifest[];
    assert.deepEqual(shape(parseSecretsYaml(renderSecretsYaml(generateSecrets()))), shape(example));
  });

  it('the committed example holds placeholders only, which the platform refuses', () => {
    const example = parseManifests(readFileSync(EXAMPLE_SECRETS_PATH, 'utf8'), 'secrets.example.yaml') as unknown as SecretManifest[];
    for (const s of example)
      for (const [k, v] of Object.entries(s.stringData)) assert.equal(envSecret().safeParse(v).success, false, `${s.metadata.name}.${k} is not a placeholder`);
    // And the Auth service refuses to start with it.
    const result = authSchema.safeParse({ JWT_PRIVATE_KEY: appData(example).JWT_PRIVATE_KEY });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error?.issues), /placeholder/);
  });

  it('generates strong, distinct, non-placeholder values and a valid Ed25519 key', () => {
    const secrets = generateSecrets({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x' });
    const values = secrets.flatMap((s) => Object.entries(s.stringData).map(([k, v]) => ({ k, v })));
    for (const { k, v } of values) {
      if (k === 'admin-user') continue; // a user name, not a secret
      assert.ok(envSecret(8).safeParse(v).success, `${k} is weak or a placeholder`);
    }
    const data = appData(secrets);
    for (const k of ['POSTGRES_PASSWORD', 'AUTH_DB_PASSWORD', 'IMAGES_DB_PASSWORD', 'CHAOS_ADMIN_TOKEN'])
      assert.ok(data[k]!.length >= 43, `${k} shorter than 256 bits`);
    for (const k of ['MINIO_ROOT_PASSWORD', 'S3_SECRET_ACCESS_KEY'])
      assert.ok(data[k]!.length >= 32 && data[k]!.length <= 40, `${k}: MinIO wants 8–40 characters`);
    for (const k of ['MINIO_ROOT_USER', 'S3_ACCESS_KEY_ID']) assert.ok(data[k]!.length <= 20, `${k}: MinIO wants at most 20 characters`);
    const randoms = ['POSTGRES_PASSWORD', 'AUTH_DB_PASSWORD', 'IMAGES_DB_PASSWORD', 'MINIO_ROOT_PASSWORD', 'S3_SECRET_ACCESS_KEY', 'CHAOS_ADMIN_TOKEN'].map(
      (k) => data[k],
    );
    assert.equal(new Set(randoms).size, randoms.length);
    assert.equal(createPrivateKey(data.JWT_PRIVATE_KEY!).asymmetricKeyType, 'ed25519');
    assert.equal(data.AUTH_DATABASE_URL, `postgresql://auth:${data.AUTH_DB_PASSWORD}@postgres:5432/auth`);
    assert.equal(data.IMAGES_DATABASE_URL, `postgresql://images:${data.IMAGES_DB_PASSWORD}@postgres:5432/images`);
    // Two runs never agree.
    assert.notEqual(appData(generateSecrets()).POSTGRES_PASSWORD, appData(generateSecrets()).POSTGRES_PASSWORD);
  });

  it('writes the file with mode 0600, and refuses to overwrite it without --force', () => {
    const out = join(dir, 'secrets.yaml');
    assert.equal(
      quiet(() => main(['--out', out], {})),
      0,
    );
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const first = readFileSync(out, 'utf8');
    assert.equal(
      quiet(() => main(['--out', out], {})),
      1,
    );
    assert.equal(readFileSync(out, 'utf8'), first, 'the existing file was changed');
    assert.equal(
      quiet(() => main(['--out', out, '--force'], { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/y' })),
      0,
    );
    const second = parseSecretsYaml(readFileSync(out, 'utf8'));
    assert.notEqual(appData(second).POSTGRES_PASSWORD, appData(parseSecretsYaml(first)).POSTGRES_PASSWORD);
    assert.equal(second.find((s) => s.metadata.name === 'alertmanager-slack')!.stringData['slack-webhook-url'], 'https://hooks.slack.com/services/T/B/y');
  });

  it('rotates the JWT key in three steps the Auth service accepts at each step', () => {
    const publicOf = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
    const accepts = (secrets: SecretManifest[]) => {
      const data = appData(secrets);
      const parsed = authSchema.safeParse({ JWT_PRIVATE_KEY: data.JWT_PRIVATE_KEY, JWT_PREVIOUS_PUBLIC_KEYS: data.JWT_PREVIOUS_PUBLIC_KEYS });
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    };
    let secrets = generateSecrets();
    const original = appData(secrets).JWT_PRIVATE_KEY!;
    assert.throws(() => rotateJwt(structuredClone(secrets), 'activate'), /no prepared rotation/);

    secrets = rotateJwt(secrets, 'prepare');
    const next = appData(secrets).JWT_NEXT_PRIVATE_KEY!;
    assert.equal(appData(secrets).JWT_PRIVATE_KEY, original, 'prepare must not change the signing key');
    assert.equal(appData(secrets).JWT_PREVIOUS_PUBLIC_KEYS, publicOf(next), 'prepare publishes the next public key');
    accepts(secrets);
    assert.throws(() => rotateJwt(structuredClone(secrets), 'finish'), /not active yet/);

    secrets = rotateJwt(secrets, 'activate');
    assert.equal(appData(secrets).JWT_PRIVATE_KEY, next);
    assert.equal(appData(secrets).JWT_PREVIOUS_PUBLIC_KEYS, publicOf(original), 'old tokens stay verifiable');
    assert.equal(appData(secrets).JWT_NEXT_PRIVATE_KEY, undefined);
    accepts(secrets);

    secrets = rotateJwt(secrets, 'finish');
    assert.equal(appData(secrets).JWT_PREVIOUS_PUBLIC_KEYS, undefined);
    accepts(secrets);
  });

  it('--rotate-jwt works on the file and keeps every other value', () => {
    const out = join(dir, 'rotate.yaml');
    writeFileSync(out, renderSecretsYaml(generateSecrets()));
    const before = appData(parseSecretsYaml(readFileSync(out, 'utf8')));
    assert.equal(
      quiet(() => main(['--out', out, '--rotate-jwt=prepare'], {})),
      0,
    );
    assert.equal(
      quiet(() => main(['--out', out, '--rotate-jwt=activate'], {})),
      0,
    );
    const afterwards = appData(parseSecretsYaml(readFileSync(out, 'utf8')));
    assert.notEqual(afterwards.JWT_PRIVATE_KEY, before.JWT_PRIVATE_KEY);
    for (const k of ['POSTGRES_PASSWORD', 'AUTH_DATABASE_URL', 'S3_SECRET_ACCESS_KEY']) assert.equal(afterwards[k], before[k]);
    assert.equal(
      quiet(() => main(['--out', join(dir, 'missing.yaml'), '--rotate-jwt=prepare'], {})),
      1,
    );
  });

  it('k8s/secrets.yaml is git-ignored', () => {
    for (const path of ['k8s/secrets.yaml', 'k8s/tls/app-tls.yaml', 'k8s/tls/tls.key']) {
      const result = spawnSync('git', ['check-ignore', '-q', path], { cwd: REPO_ROOT });
      assert.equal(result.status, 0, `${path} is not git-ignored`);
    }
  });
});

describe(
  'tools/k8s/secrets.sh (kubectl and openssl only)',
  { ...requireTool('openssl', 'apt-get install openssl'), ...requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/') },
  () => {
    /** The Secrets as { name: { key: value } }, whether written as stringData (secrets.ts) or base64 data (kubectl). */
    const decoded = (text: string) =>
      Object.fromEntries(
        parseManifests(text, 'secrets')
          .filter((o) => o.kind === 'Secret')
          .map((o) => {
            const data = Object.fromEntries(
              Object.entries((o.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
            );
            return [`${o.metadata.namespace}/${o.metadata.name}`, { ...data, ...((o.stringData ?? {}) as Record<string, string>) }];
          }),
      ) as Record<string, Record<string, string>>;
    /** The format of a value: random text keeps its length and alphabet, fixed parts stay literal. */
    const format = (key: string, value: string) => {
      if (key.endsWith('PRIVATE_KEY')) return `${createPrivateKey(value).asymmetricKeyType} ${value.split('\n')[0]}`;
      return value
        .replace(/^-----BEGIN [A-Z ]+-----[\s\S]*$/, 'PEM')
        .replace(/(admin|images)-[0-9a-f]{12}$/, '$1-<hex12>')
        .replace(/[A-Za-z0-9_-]{32,}/g, (m) => `<base64url${m.length}>`);
    };
    const runScript = (out: string, env: Record<string, string> = {}, ...args: string[]) =>
      spawnSync('bash', [join(REPO_ROOT, 'tools/k8s/secrets.sh'), '--out', out, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });

    it('writes the same Secrets, keys and value formats as npm run k8s:secrets', () => {
      const out = join(dir, 'sh-secrets.yaml');
      const result = runScript(out, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/z' });
      assert.equal(result.status, 0, result.stderr);
      const fromShell = decoded(readFileSync(out, 'utf8'));
      const fromNode = decoded(renderSecretsYaml(generateSecrets({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/z' })));
      const shapeOf = (all: Record<string, Record<string, string>>) =>
        Object.fromEntries(Object.entries(all).map(([name, data]) => [name, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, format(k, v)]))]));
      assert.deepEqual(shapeOf(fromShell), shapeOf(fromNode));
      const app = fromShell['app/app-secrets']!;
      assert.equal(createPrivateKey(app.JWT_PRIVATE_KEY!).asymmetricKeyType, 'ed25519');
      assert.equal(app.AUTH_DATABASE_URL, `postgresql://auth:${app.AUTH_DB_PASSWORD}@postgres:5432/auth`);
      assert.equal(app.IMAGES_DATABASE_URL, `postgresql://images:${app.IMAGES_DB_PASSWORD}@postgres:5432/images`);
      // The services accept what it makes.
      assert.ok(authSchema.safeParse({ JWT_PRIVATE_KEY: app.JWT_PRIVATE_KEY }).success);
      for (const [k, v] of Object.entries(app)) assert.ok(envSecret(8).safeParse(v).success, `${k} is weak or a placeholder`);
      assert.equal(statSync(out).mode & 0o777, 0o600);
    });

    it('refuses to overwrite the file without --force', () => {
      const out = join(dir, 'sh-twice.yaml');
      assert.equal(runScript(out).status, 0);
      const first = readFileSync(out, 'utf8');
      const again = runScript(out);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /not overwriting/);
      assert.equal(readFileSync(out, 'utf8'), first);
      assert.equal(runScript(out, {}, '--force').status, 0);
      assert.notEqual(readFileSync(out, 'utf8'), first);
    });
  },
);

describe('k8s:tls', { ...requireTool('openssl', 'apt-get install openssl'), ...requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/') }, () => {
  it('writes the app-tls Secret with a certificate for localhost matching its key', () => {
    const out = join(dir, 'tls');
    execFileSync('bash', [join(REPO_ROOT, 'tools/k8s/tls.sh'), '--out', out], {
      env: { ...process.env, TLS_HOSTS: 'localhost app.example.test' },
      stdio: 'pipe',
    });
    const [secret] = parseManifests(readFileSync(join(out, 'app-tls.yaml'), 'utf8'), 'app-tls.yaml');
    assert.equal(secret?.kind, 'Secret');
    assert.equal(secret?.type, 'kubernetes.io/tls');
    assert.deepEqual([secret?.metadata.namespace, secret?.metadata.name], ['app', 'app-tls']);
    const data = secret?.data as Record<string, string>;
    const cert = new X509Certificate(Buffer.from(data['tls.crt']!, 'base64'));
    const key = createPrivateKey(Buffer.from(data['tls.key']!, 'base64'));
    assert.ok(cert.checkPrivateKey(key), 'the key does not belong to the certificate');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkHost('app.example.test'), 'app.example.test');
    assert.equal(cert.checkHost('evil.example'), undefined);
    assert.ok(new Date(cert.validTo).getTime() > Date.now() + 300 * 86_400_000, 'valid for less than 300 days');
    assert.equal(statSync(join(out, 'tls.key')).mode & 0o077, 0, 'tls.key is readable by others');
  });
});
