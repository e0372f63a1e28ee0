/**
 * `npm start`: the whole platform on one machine. See docs/local.md.
 *
 *   npm start                              http://localhost:8080
 *   npm start -- --https                   also https://localhost:8443 (self-signed)
 *   npm start -- --instances images=2      two Images processes behind a round-robin
 *   npm start -- --help
 */
import { parseArgs } from 'node:util';
import { Launcher, REPO_ROOT, SERVICES, type ServiceName } from './src/launcher.js';
import { nodeVersionWarning, readNvmrc } from './src/node-version.js';

const USAGE = `Usage: npm start -- [options]

  --port N               gateway port (default 8080; auth N+1, images N+2; 0 = pick free ports)
  --management-port N    first management port (default 9464: gateway, auth +1, images +2)
  --host ADDR            gateway address (default 127.0.0.1; 0.0.0.0 to reach it from other machines)
  --https                also serve HTTPS with a self-signed certificate made on first run
  --https-port N         HTTPS port (default 8443)
  --instances S=N[,S=N]  run N instances of service S behind a round-robin (e.g. images=2)
  --data-dir DIR         data folder (default .data in the repository)
  --database KIND        postgres: one local PostgreSQL server for auth and images (default when installed);
                         pglite: embedded PGlite in each service (more memory; no server needed)
  --logs                 print every service log line (default: warnings and errors; all in DATA/logs/)
  -h, --help             this text

Environment: DATABASE_URL (or AUTH_DATABASE_URL / IMAGES_DATABASE_URL), STORAGE_DRIVER=s3 with S3_*,
JWT_PRIVATE_KEY, LOG_LEVEL and every service variable are passed to the services (docs/local.md).`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parsePort(value: string | undefined, fallback: number, flag: string, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) fail(`${flag} needs a port number`);
  return n;
}

function parseInstances(values: readonly string[]): Partial<Record<ServiceName, number>> {
  const result: Partial<Record<ServiceName, number>> = {};
  for (const item of values.flatMap((v) => v.split(',')).filter(Boolean)) {
    const match = /^([a-z]+)=(\d+)$/.exec(item.trim());
    const name = match?.[1] as ServiceName | undefined;
    const count = Number(match?.[2]);
    if (!name || !SERVICES.includes(name) || !Number.isInteger(count) || count < 1 || count > 8) {
      fail(`--instances expects SERVICE=N with SERVICE one of ${SERVICES.join(', ')} and N from 1 to 8 (got "${item}")`);
    }
    result[name] = count;
  }
  return result;
}

function parseDatabase(value: string | undefined): 'auto' | 'postgres' | 'pglite' {
  if (value === undefined) return 'auto';
  if (value === 'postgres' || value === 'pglite') return value;
  fail(`--database expects postgres or pglite (got "${value}")`);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      'management-port': { type: 'string' },
      host: { type: 'string' },
      https: { type: 'boolean' },
      'https-port': { type: 'string' },
      instances: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      database: { type: 'string' },
      logs: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const olderNode = nodeVersionWarning(process.versions.node, readNvmrc(REPO_ROOT));
if (olderNode) process.stderr.write(`${olderNode}\n`);
const launcher = new Launcher({
  port: parsePort(args.port, 8080, '--port', true),
  managementPort: parsePort(args['management-port'], 9464, '--management-port'),
  httpsPort: parsePort(args['https-port'], 8443, '--https-port'),
  https: args.https ?? false,
  host: args.host ?? '127.0.0.1',
  instances: parseInstances(args.instances ?? []),
  ...(args['data-dir'] ? { dataDir: args['data-dir'] } : {}),
  database: parseDatabase(args.database),
  verbose: args.logs ?? false,
  say,
});

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) {
    // A second Ctrl-C: do not wait (the exit hook kills the services).
    say('[launcher] stopping now');
    process.exit(130);
  }
  stopping = true;
  say(`[launcher] ${signal}: stopping the gateway, then the services…`);
  await launcher.stop();
  say('[launcher] all services stopped');
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

say('[launcher] starting auth, images and gateway…');
try {
  const state = await launcher.start();
  const lines = [
    '',
    'The platform is running:',
    `  App:    ${state.appUrl}`,
    ...(state.httpsUrl ? [`  HTTPS:  ${state.httpsUrl}   (self-signed certificate in ${state.dataDir}/tls/)`] : []),
    '  Management (GET /livez, /readyz, /metrics):',
    ...SERVICES.flatMap((name) => state.services[name].instances.map((i) => `    ${i.label.padEnd(10)} ${i.managementUrl}/readyz`)),
    ...SERVICES.filter((name) => state.services[name].instances.length > 1).map(
      (name) => `  ${name}: ${state.services[name].instances.length} instances behind ${state.services[name].url}`,
    ),
    `  Data:   ${state.dataDir}   (logs in ${state.dataDir}/logs/)`,
    '',
    'Press Ctrl-C to stop.',
  ];
  say(lines.join('\n'));
} catch (err) {
  say(`[launcher] could not start: ${(err as Error).message}`);
  await launcher.stop();
  process.exit(1);
}
