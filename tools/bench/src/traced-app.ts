/**
 * A child process for the `tracing` suite: a platform app whose route makes one upstream call
 * (undici `fetch`, like the gateway's proxy hop) to a bare HTTP server, with tracing on or off as the
 * OTEL_* environment says. Tracing starts before the platform is imported, as a service's preload
 * does. Prints `listening <url>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { startTracing } from '@sre/platform/tracing';

const tracing = await startTracing('bench');
const { createHttpApp, createPlatform } = await import('@sre/platform');

const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 1000, READINESS_CHECK_TIMEOUT_MS: 1000, BODY_LIMIT_BYTES: 65536, REQUEST_TIMEOUT_MS: 30000 };
const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });
const app = createHttpApp(createPlatform({ service: 'bench', config, logDestination: discard, collectProcessMetrics: false }), { config });
app.get('/items/:id', async (request) => {
  const res = await fetch(`${upstreamUrl}/${(request.params as { id: string }).id}`);
  return { upstream: await res.json(), id: (request.params as { id: string }).id };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${url} tracing=${tracing.enabled}\n`);

process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => tracing.shutdown())
    .finally(() => {
      upstream.close();
      process.exit(0);
    });
});
