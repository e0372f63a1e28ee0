import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseAllDocuments, stringify } from 'yaml';
import { createTestDatabase, freePort, requireTool, testPostgresUrl, waitFor, type TestDatabase } from '@sre/testkit';
import { NODE_BASE_IMAGE, NODE_IMAGE_VERSION } from '../src/dockerfiles.js';

/**
 * The container images, proven without Docker: each image is built with podman from its real
 * Dockerfile (on a locally made stand-in for the pinned node base image: tools/containers/base-image.sh),
 * run with the Deployments' securityContext, then the Deployments themselves run with
 * `podman kube play` through k8s/overlays/podman-test. All traffic from the test goes to 127.0.0.1.
 * See docs/containers.md.
 */

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const REGISTRY = 'localhost/sre-platform';
const TAG = 'podman-test';
const RUNTIME_UID = 10001;

interface ServiceImage {
  /** Image and Deployment name (the seed's names: the gateway is api-service). */
  readonly name: 'auth-service' | 'images-service' | 'api-service';
  readonly dir: string;
}
const SERVICES: readonly ServiceImage[] = [
  { name: 'auth-service', dir: 'services/auth' },
  { name: 'images-service', dir: 'services/images' },
  { name: 'api-service', dir: 'services/gateway' },
];
const imageRef = (s: ServiceImage) => `${REGISTRY}/${s.name}:${TAG}`;

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: repoRoot, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 600_000 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = (s: string) => s.split('\n').slice(-40).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${tail(stderr)}\n${tail(stdout)}`));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

const podman = (...args: string[]) => run('podman', args).then((r) => r.stdout.trim());
/** Exit code of a command, for checks that expect failure. */
const podmanStatus = (...args: string[]) =>
  new Promise<number>((resolve) => {
    execFile('podman', args, { cwd: repoRoot }, (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0));
  });

async function httpJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (the web app's HTML)
  }
  return { status: res.status, body, headers: res.headers };
}

async function waitReady(managementUrl: string, what: string, logsOf: () => Promise<string>): Promise<void> {
  try {
    await waitFor(async () => (await fetch(`${managementUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200, {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `${what} /readyz = 200`,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- logs of ${what} ---\n${(await logsOf().catch((e: Error) => e.message)).slice(-4000)}`);
  }
}

function generateSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function samplePng(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();
}

/**
 * Through the gateway only: register, log in, upload a PNG (Images decodes it and makes a WebP
 * thumbnail with the sharp binary inside its image), read the thumbnail back.
 */
async function exerciseThroughGateway(gatewayUrl: string): Promise<void> {
  const email = `container-${randomBytes(4).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const json = { 'content-type': 'application/json' };
  const registered = await httpJson(`${gatewayUrl}/api/auth/register`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  assert.equal(registered.status, 201, `register: ${JSON.stringify(registered.body)}`);
  const login = await httpJson(`${gatewayUrl}/api/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  assert.equal(login.status, 200, `login: ${JSON.stringify(login.body)}`);
  const { accessToken } = login.body as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };

  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(await samplePng())], { type: 'image/png' }), 'sample.png');
  const uploaded = await httpJson(`${gatewayUrl}/api/images`, { method: 'POST', headers: auth, body: form });
  assert.equal(uploaded.status, 201, `upload: ${JSON.stringify(uploaded.body)}`);
  const image = uploaded.body as { id: string; width: number; height: number };
  assert.deepEqual([image.width, image.height], [64, 48]);

  const thumbnail = await fetch(`${gatewayUrl}/api/images/${image.id}/thumbnail`, { headers: auth, signal: AbortSignal.timeout(10_000) });
  assert.equal(thumbnail.status, 200);
  assert.equal(thumbnail.headers.get('content-type'), 'image/webp');
  const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
  assert.equal(meta.format, 'webp');

  const list = await httpJson(`${gatewayUrl}/api/images`, { headers: auth });
  assert.equal(list.status, 200);
  assert.deepEqual(
    (list.body as { items: { id: string }[] }).items.map((i) => i.id),
    [image.id],
  );
  const anonymous = await httpJson(`${gatewayUrl}/api/images`);
  assert.equal(anonymous.status, 401);
}

const toolChecks = [
  requireTool('podman', 'apt-get install -y podman runc'),
  // podman builds its pod infra image from catatonit: `podman pod create` and `kube play` need it.
  requireTool('catatonit', 'apt-get install -y catatonit'),
  requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — renders the test overlay with kustomize'),
];
const skip = toolChecks.find((c) => c.skip)?.skip ?? false;

describe('Dockerfiles', () => {
  it('every Dockerfile starts from the pinned node image of the current LTS line', () => {
    for (const service of SERVICES) {
      const dockerfile = readFileSync(join(repoRoot, service.dir, 'Dockerfile'), 'utf8');
      const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1]);
      const external = froms.filter((f) => f !== undefined && f.includes(':'));
      assert.deepEqual(external, [NODE_BASE_IMAGE], `${service.dir}/Dockerfile`);
    }
  });

  it('the build-base stage is the same in the three Dockerfiles (so it is built once) and installs every service', () => {
    const stage = (dir: string) => {
      const text = readFileSync(join(repoRoot, dir, 'Dockerfile'), 'utf8');
      const match = /^# ---- build-base[\s\S]*?^# ---- end of build-base$/m.exec(text);
      assert.ok(match, `${dir}/Dockerfile has a build-base section`);
      return match[0];
    };
    const [first, ...others] = SERVICES.map((s) => stage(s.dir));
    for (const other of others) assert.equal(other, first);
    const serviceDirs = readdirSync(join(repoRoot, 'services'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(repoRoot, 'services', d.name, 'package.json')))
      .map((d) => `services/${d.name}`);
    for (const workspace of [...serviceDirs, 'packages/platform', 'packages/web']) {
      assert.ok(first!.includes(`COPY ${workspace}/package.json ${workspace}/`), `build-base copies ${workspace}/package.json`);
      assert.ok(first!.includes(`--workspace ${workspace}`), `build-base installs ${workspace}`);
    }
  });
});

describe('container tooling scripts', () => {
  const shellcheck = requireTool('shellcheck', 'apt-get install -y shellcheck');

  it('pass shellcheck', { skip: shellcheck.skip }, async () => {
    const scripts = readdirSync(join(repoRoot, 'tools/containers')).filter((f) => f.endsWith('.sh'));
    assert.ok(scripts.length >= 4, scripts.join(' '));
    await run(
      'shellcheck',
      scripts.map((f) => join('tools/containers', f)),
    );
  });

  it('podman-setup.sh writes containers.conf once, keeps a complete one and refuses to rewrite a foreign one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sre-podman-conf-'));
    try {
      const conf = join(dir, 'containers.conf');
      const env = { ...process.env, CONTAINERS_CONF_PATH: conf };
      await run('bash', ['tools/containers/podman-setup.sh'], { env });
      const written = readFileSync(conf, 'utf8');
      assert.match(written, /^default_ulimits = \["nofile=1024:1024", "nproc=4096:4096"\]$/m);
      assert.match(written, /^\[engine\]\nruntime = "runc"$/m);
      await run('bash', ['tools/containers/podman-setup.sh'], { env });
      assert.equal(readFileSync(conf, 'utf8'), written);
      writeFileSync(conf, '[engine]\nruntime = "crun"\n');
      await assert.rejects(run('bash', ['tools/containers/podman-setup.sh'], { env }), /add these yourself/);
      assert.equal(readFileSync(conf, 'utf8'), '[engine]\nruntime = "crun"\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('container images, built and run with podman', { skip }, () => {
  before(
    async () => {
      const started = Date.now();
      await run('bash', ['tools/containers/podman-setup.sh']);
      // Once per machine: skipped when the base image exists (it takes ~30 s and Debian's archive).
      const baseTag = `docker.io/library/${NODE_BASE_IMAGE}`;
      if ((await podmanStatus('image', 'exists', baseTag)) !== 0) {
        const debootstrap = requireTool('debootstrap', 'apt-get install -y debootstrap');
        if (debootstrap.skip) throw new Error(debootstrap.skip);
        await run('bash', ['tools/containers/base-image.sh']);
      }
      const built = Date.now();
      // A fixed build time (the last commit's) keeps every layer, labels included, cached between runs.
      const sourceDateEpoch = (await run('git', ['log', '-1', '--format=%ct'])).stdout.trim();
      await run('bash', ['tools/containers/build-images.sh', '--engine', 'podman', '--pull', 'never', '--registry', REGISTRY, '--tag', TAG], {
        env: { ...process.env, SOURCE_DATE_EPOCH: sourceDateEpoch },
        timeoutMs: 1_200_000,
      });
      // Reported so cold and warm cache times are visible in every run (docs/containers.md#timings).
      process.stderr.write(
        `containers: base image ${((built - started) / 1000).toFixed(1)} s, three image builds ${((Date.now() - built) / 1000).toFixed(1)} s\n`,
      );
    },
    { timeout: 1_500_000 },
  );

  for (const service of SERVICES) {
    it(`${service.name}: numeric non-root user, production env, heap cap, ports, OCI labels, node --import ./dist/tracing.js dist/main.js`, async () => {
      const [info] = JSON.parse(await podman('image', 'inspect', imageRef(service))) as {
        Config: { User: string; Env: string[]; ExposedPorts: Record<string, unknown>; Cmd: string[]; WorkingDir: string; Labels: Record<string, string> };
      }[];
      assert.ok(info);
      const { Config: config } = info;
      assert.equal(config.User, `${RUNTIME_UID}:${RUNTIME_UID}`);
      assert.ok(config.Env.includes('NODE_ENV=production'), config.Env.join(' '));
      assert.ok(
        config.Env.some((e) => /^NODE_OPTIONS=.*--max-old-space-size=\d+/.test(e)),
        config.Env.join(' '),
      );
      assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['8080/tcp', '9464/tcp']);
      assert.deepEqual(config.Cmd, ['node', '--import', './dist/tracing.js', 'dist/main.js']);
      assert.equal(config.WorkingDir, `/app/${service.dir}`);
      assert.equal(config.Labels['org.opencontainers.image.title'], service.name);
      assert.equal(config.Labels['org.opencontainers.image.version'], TAG);
      assert.equal(config.Labels['org.opencontainers.image.licenses'], 'Apache-2.0');
      assert.match(config.Labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{12}/);
      assert.match(config.Labels['org.opencontainers.image.source'] ?? '', /^https:\/\//);
    });

    it(`${service.name}: runs the images' Node.js (${NODE_IMAGE_VERSION}), not this machine's`, async () => {
      const { stdout } = await run('podman', ['run', '--rm', '--pull=never', '--network=none', imageRef(service), 'node', '-p', 'process.versions.node']);
      assert.equal(stdout.trim(), NODE_IMAGE_VERSION);
    });

    it(`${service.name}: compiled JavaScript and production dependencies only`, async () => {
      // One shell in the image lists what must not be there; empty output means clean.
      const script = [
        'find /app -name "*.ts" -not -path "*/node_modules/*"',
        'find /app/node_modules -maxdepth 2 \\( -name typescript -o -name tsx -o -name eslint -o -name vite -o -name esbuild -o -name "@types" -o -name playwright-core -o -name s3rver -o -name testkit \\)',
        `ls -d /app/${service.dir}/src /app/${service.dir}/test /app/packages/platform/src 2>/dev/null`,
        'command -v npm npx corepack yarn',
        'true',
      ].join('; ');
      const leftovers = await podman(
        'run',
        '--rm',
        '--pull=never',
        '--read-only',
        '--user',
        String(RUNTIME_UID),
        '--entrypoint',
        'sh',
        imageRef(service),
        '-c',
        script,
      );
      assert.equal(leftovers, '', `unexpected in ${service.name}:\n${leftovers}`);
      const present = await podman(
        'run',
        '--rm',
        '--pull=never',
        '--read-only',
        '--entrypoint',
        'sh',
        imageRef(service),
        '-c',
        `test -f /app/${service.dir}/dist/main.js && test -f /app/packages/platform/dist/index.js && echo ok`,
      );
      assert.equal(present, 'ok');
    });
  }

  it('api-service carries the built web app where the gateway looks for it', async () => {
    const listing = await podman('run', '--rm', '--pull=never', '--read-only', '--entrypoint', 'sh', imageRef(SERVICES[2]!), '-c', 'ls /app/packages/web/dist');
    assert.match(listing, /(^|\n)index\.html(\n|$)/);
    assert.match(listing, /(^|\n)assets(\n|$)/);
  });

  it('images-service loads the linux-x64 glibc sharp binary and converts an image', async () => {
    const out = await podman(
      'run',
      '--rm',
      '--pull=never',
      '--read-only',
      '--user',
      String(RUNTIME_UID),
      '--cap-drop=ALL',
      '--entrypoint',
      'node',
      imageRef(SERVICES[1]!),
      '-e',
      "const s=require('sharp');s({create:{width:8,height:8,channels:3,background:'#123'}}).webp().toBuffer().then(b=>console.log(JSON.stringify({n:b.length,glibc:!!process.report.getReport().header.glibcVersionRuntime,arch:process.arch,vips:s.versions.vips})))",
    );
    const result = JSON.parse(out) as { n: number; glibc: boolean; arch: string; vips: string };
    assert.ok(result.n > 0);
    assert.equal(result.glibc, true);
    assert.equal(result.arch, 'x64');
    assert.match(result.vips, /^\d+\.\d+/);
  });

  describe('run as the Deployments run them: uid 10001, read-only root, all capabilities dropped, no new privileges, /tmp a tmpfs', () => {
    const suffix = randomBytes(3).toString('hex');
    const pod = `sre-containers-${suffix}`;
    const names = { auth: `${pod}-auth`, images: `${pod}-images`, gateway: `${pod}-gateway` };
    const ports = { gateway: 0, gatewayManagement: 0, authManagement: 0, imagesManagement: 0 };
    const hardened = [
      '--user',
      `${RUNTIME_UID}:${RUNTIME_UID}`,
      '--read-only',
      '--read-only-tmpfs=false',
      '--cap-drop=ALL',
      '--security-opt',
      'no-new-privileges',
      '--tmpfs',
      '/tmp:rw,size=64m,mode=1777',
    ];

    before(
      async () => {
        ports.gateway = await freePort();
        ports.gatewayManagement = await freePort();
        ports.authManagement = await freePort();
        ports.imagesManagement = await freePort();
        // One pod = one shared loopback, like the local launcher: Auth on 8081, Images on 8082 (the
        // gateway's and Images' defaults), the gateway on the images' default 8080/9464. Only the
        // ports below are published, on 127.0.0.1.
        await podman(
          'pod',
          'create',
          '--name',
          pod,
          '-p',
          `127.0.0.1:${ports.gateway}:8080`,
          '-p',
          `127.0.0.1:${ports.gatewayManagement}:9464`,
          '-p',
          `127.0.0.1:${ports.authManagement}:9465`,
          '-p',
          `127.0.0.1:${ports.imagesManagement}:9466`,
        );
        await podman(
          'run',
          '-d',
          '--pull=never',
          '--pod',
          pod,
          '--name',
          names.auth,
          ...hardened,
          '-e',
          'PORT=8081',
          '-e',
          'MANAGEMENT_PORT=9465',
          '-e',
          'DRAIN_DELAY_MS=200',
          '-e',
          `JWT_PRIVATE_KEY=${generateSigningKey()}`,
          imageRef(SERVICES[0]!),
        );
        await podman(
          'run',
          '-d',
          '--pull=never',
          '--pod',
          pod,
          '--name',
          names.images,
          ...hardened,
          '-e',
          'PORT=8082',
          '-e',
          'MANAGEMENT_PORT=9466',
          '-e',
          'DRAIN_DELAY_MS=200',
          '-e',
          'PGLITE_DATA_DIR=/tmp/pglite',
          '-e',
          'STORAGE_LOCAL_DIR=/tmp/objects',
          imageRef(SERVICES[1]!),
        );
        await podman('run', '-d', '--pull=never', '--pod', pod, '--name', names.gateway, ...hardened, '-e', 'DRAIN_DELAY_MS=200', imageRef(SERVICES[2]!));
      },
      { timeout: 120_000 },
    );

    after(async () => {
      await podmanStatus('pod', 'rm', '--force', '--time', '2', pod);
    });

    it('each service answers /readyz 200 on its management port', { timeout: 180_000 }, async () => {
      const managementUrls = {
        auth: `http://127.0.0.1:${ports.authManagement}`,
        images: `http://127.0.0.1:${ports.imagesManagement}`,
        gateway: `http://127.0.0.1:${ports.gatewayManagement}`,
      };
      for (const key of ['auth', 'images', 'gateway'] as const) {
        await waitReady(managementUrls[key], names[key], () => podman('logs', names[key]));
        const live = await httpJson(`${managementUrls[key]}/livez`);
        assert.equal(live.status, 200);
      }
    });

    it('serves the web app, and registers, logs in and uploads through the gateway', { timeout: 120_000 }, async () => {
      const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
      const page = await httpJson(`${gatewayUrl}/`);
      assert.equal(page.status, 200);
      assert.match(String(page.headers.get('content-type')), /text\/html/);
      assert.match(String(page.body), /<script[^>]+src="\/assets\//);
      await exerciseThroughGateway(gatewayUrl);
    });

    it('the processes run as uid 10001 with no capabilities and no_new_privs, and cannot write outside /tmp', async () => {
      for (const name of Object.values(names)) {
        const status = await podman('exec', name, 'sh', '-c', 'grep -E "^(Uid|CapEff|CapPrm|NoNewPrivs):" /proc/1/status');
        assert.match(status, new RegExp(`^Uid:\\s+${RUNTIME_UID}\\s`, 'm'), name);
        assert.match(status, /^CapEff:\s+0+$/m, name);
        assert.match(status, /^CapPrm:\s+0+$/m, name);
        assert.match(status, /^NoNewPrivs:\s+1$/m, name);
        const writes = await podman(
          'exec',
          name,
          'sh',
          '-c',
          'touch /app/x 2>/dev/null && echo app-writable; touch /x 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-ok',
        );
        assert.equal(writes, 'tmp-ok', name);
      }
    });

    it('SIGTERM reaches node (PID 1 through the entrypoint) and each service exits 0 after draining', { timeout: 120_000 }, async () => {
      await podman('stop', '--time', '40', names.gateway, names.images, names.auth);
      for (const name of Object.values(names)) {
        const state = JSON.parse(await podman('inspect', '--format', '{{json .State}}', name)) as { ExitCode: number; OOMKilled: boolean };
        assert.equal(state.OOMKilled, false, name);
        assert.equal(state.ExitCode, 0, `${name} exit code (logs: ${(await podman('logs', '--tail', '5', name)).slice(-1500)})`);
      }
    });
  });

  describe('podman kube play of the Deployments (k8s/overlays/podman-test)', () => {
    const network = 'sre-podman-test';
    const workDir = mkdtempSync(join(tmpdir(), 'sre-kube-play-'));
    const files: Record<string, string> = {};
    const hostPorts: Record<string, { http: number; management: number }> = {};
    const created = { secret: false, network: false };
    const databases: TestDatabase[] = [];
    let proxy: Server | undefined;
    let docs: Record<string, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any

    before(
      async () => {
        const adminUrl = testPostgresUrl();
        if (!adminUrl) throw new Error('TEST_POSTGRES_URL is not set: run through tools/test/run.sh');
        const rendered = (await run('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', 'k8s/overlays/podman-test'])).stdout;
        docs = parseAllDocuments(rendered).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
        // The pod IPs the overlay's hostAliases name are the ones each Deployment gets (--ip).
        const aliasIps = new Map<string, string>();
        for (const doc of docs) {
          for (const alias of (doc.spec?.template?.spec?.hostAliases ?? []) as { ip: string; hostnames: string[] }[]) {
            for (const host of alias.hostnames) aliasIps.set(host, alias.ip);
          }
        }
        const subnetPrefix = [...aliasIps.values()][0]?.split('.').slice(0, 3).join('.');
        assert.ok(subnetPrefix, 'the overlay names pod IPs in hostAliases');
        const gatewayIp = `${subnetPrefix}.1`;
        // Left over from an interrupted run.
        for (const service of SERVICES) await podmanStatus('pod', 'rm', '--force', '--time', '1', `${service.name}-pod-0`);
        await podmanStatus('secret', 'rm', 'app-secrets');
        await podmanStatus('network', 'rm', '--force', network);

        await podman('network', 'create', '--subnet', `${subnetPrefix}.0/24`, '--gateway', gatewayIp, network);
        created.network = true;
        // CNI creates the bridge (and the host's gateway address on it) with the first container.
        await podman('run', '--rm', '--pull=never', '--network', network, '--entrypoint', 'true', imageRef(SERVICES[0]!));

        // PostgreSQL stays real: the test's server listens on 127.0.0.1 only, so a small TCP relay on
        // the network's gateway address (host side of the test's own bridge) lets the pods reach it.
        const admin = new URL(adminUrl);
        const relay = createServer((client) => {
          const upstream = connect(Number(admin.port), admin.hostname);
          client.pipe(upstream).pipe(client);
          const end = () => {
            client.destroy();
            upstream.destroy();
          };
          client.on('error', end).on('close', end);
          upstream.on('error', end).on('close', end);
        });
        await new Promise<void>((resolve, reject) => relay.once('error', reject).listen(0, gatewayIp, () => resolve()));
        proxy = relay;
        const relayPort = (relay.address() as AddressInfo).port;
        const podDatabaseUrl = async (prefix: string) => {
          const db = await createTestDatabase(adminUrl, prefix);
          databases.push(db);
          const url = new URL(db.url);
          url.hostname = gatewayIp;
          url.port = String(relayPort);
          return url.toString();
        };

        // podman 4.3 resolves secretKeyRef from a podman secret holding a JSON map of base64 values.
        const secretValues: Record<string, string> = {
          JWT_PRIVATE_KEY: generateSigningKey(),
          AUTH_DATABASE_URL: await podDatabaseUrl('ct_auth'),
          IMAGES_DATABASE_URL: await podDatabaseUrl('ct_images'),
        };
        for (const doc of docs.filter((d) => d.kind === 'Deployment')) {
          for (const container of doc.spec.template.spec.containers as {
            env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
          }[]) {
            for (const ref of (container.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter((r) => r !== undefined)) {
              assert.equal(ref.name, 'app-secrets');
              assert.ok(ref.optional === true || ref.key in secretValues, `the test does not know how to supply app-secrets/${ref.key} (${doc.metadata.name})`);
            }
          }
        }
        const secretFile = join(workDir, 'app-secrets.json');
        writeFileSync(secretFile, JSON.stringify(Object.fromEntries(Object.entries(secretValues).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))), {
          mode: 0o600,
        });
        // From a private file: podman refuses stdin unless it is a FIFO, and Node's pipes are sockets.
        await podman('secret', 'create', 'app-secrets', secretFile);
        rmSync(secretFile);
        created.secret = true;

        let nextIp = 50;
        for (const service of SERVICES) {
          const own = docs.filter((d) => d.metadata?.labels?.['app.kubernetes.io/name'] === service.name);
          const deployment = own.find((d) => d.kind === 'Deployment');
          assert.ok(deployment, `the overlay renders the ${service.name} Deployment`);
          assert.equal(deployment.spec.replicas, 1);
          const container = (deployment.spec.template.spec.containers as Record<string, any>[]).find((c) => c.name === service.name); // eslint-disable-line @typescript-eslint/no-explicit-any
          assert.ok(container);
          assert.equal(container.image, imageRef(service));
          const ports = { http: await freePort(), management: await freePort() };
          for (const port of container.ports as { containerPort: number; hostPort?: number; hostIP?: string }[]) {
            assert.equal(port.hostIP, '127.0.0.1', 'host ports are published on loopback only');
            port.hostPort = port.containerPort === 8080 ? ports.http : ports.management;
          }
          hostPorts[service.name] = ports;
          const file = join(workDir, `${service.name}.yaml`);
          writeFileSync(file, own.map((d) => stringify(d)).join('---\n'));
          files[service.name] = file;
          const ip = aliasIps.get(service.name) ?? `${subnetPrefix}.${nextIp++}`;
          await podman('kube', 'play', '--network', network, '--ip', ip, file);
        }
      },
      { timeout: 180_000 },
    );

    after(async () => {
      for (const file of Object.values(files)) await podmanStatus('kube', 'play', '--down', file);
      if (created.secret) await podmanStatus('secret', 'rm', 'app-secrets');
      if (created.network) await podmanStatus('network', 'rm', '--force', network);
      proxy?.close();
      for (const db of databases) await db.drop().catch(() => undefined);
      rmSync(workDir, { recursive: true, force: true });
    });

    it('every Deployment becomes ready, reached on 127.0.0.1', { timeout: 240_000 }, async () => {
      for (const service of SERVICES) {
        const container = `${service.name}-pod-0-${service.name}`;
        await waitReady(`http://127.0.0.1:${hostPorts[service.name]!.management}`, container, () => podman('logs', container));
        const ready = await httpJson(`http://127.0.0.1:${hostPorts[service.name]!.management}/readyz`);
        assert.equal(ready.status, 200);
      }
    });

    it('podman applied the Deployments’ securityContext and memory limits', async () => {
      const expectedMemory: Record<string, number> = {};
      for (const doc of docs) {
        if (doc.kind !== 'Deployment') continue;
        const limit = String(doc.spec.template.spec.containers[0].resources.limits.memory);
        const mi = /^(\d+)Mi$/.exec(limit);
        assert.ok(mi, `memory limit ${limit} in Mi`);
        expectedMemory[doc.metadata.name] = Number(mi[1]) * 1024 * 1024;
      }
      for (const service of SERVICES) {
        const container = `${service.name}-pod-0-${service.name}`;
        const [info] = JSON.parse(await podman('inspect', container)) as {
          Config: { User: string };
          RestartCount: number;
          HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; CapAdd: string[] | null; SecurityOpt: string[]; Memory: number };
        }[];
        assert.ok(info);
        assert.equal(info.Config.User, `${RUNTIME_UID}:${RUNTIME_UID}`, container);
        assert.equal(info.HostConfig.ReadonlyRootfs, true, container);
        assert.ok(info.HostConfig.CapDrop.includes('CAP_NET_RAW') && info.HostConfig.CapDrop.includes('CAP_CHOWN'), container);
        assert.deepEqual(info.HostConfig.CapAdd ?? [], [], container);
        assert.ok(info.HostConfig.SecurityOpt.includes('no-new-privileges'), container);
        assert.equal(info.HostConfig.Memory, expectedMemory[service.name], container);
        assert.equal(info.RestartCount, 0, `${container} restarted (OOM under its memory limit?)`);
        const status = await podman(
          'exec',
          container,
          'sh',
          '-c',
          'grep -E "^(CapEff|NoNewPrivs):" /proc/1/status; touch /app/x 2>/dev/null && echo app-writable; touch /tmp/x && echo tmp-ok',
        );
        assert.match(status, /^CapEff:\s+0+$/m, container);
        assert.match(status, /^NoNewPrivs:\s+1$/m, container);
        assert.doesNotMatch(status, /app-writable/, container);
        assert.match(status, /tmp-ok/, container);
      }
    });

    it('the gateway pod reaches Auth and Images by their Service names: register, log in, upload', { timeout: 120_000 }, async () => {
      await exerciseThroughGateway(`http://127.0.0.1:${hostPorts['api-service']!.http}`);
    });
  });
});
