import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs, freePort, waitFor } from '@sre/testkit';
import { createHttpApp, createManagementApp, createPlatform, startService } from '../src/index.js';

const config = {
  LOG_LEVEL: 'info' as const,
  READINESS_CACHE_MS: 0,
  READINESS_CHECK_TIMEOUT_MS: 1000,
  BODY_LIMIT_BYTES: 1024,
  REQUEST_TIMEOUT_MS: 5000,
  HOST: '127.0.0.1',
  PORT: 0,
  DRAIN_DELAY_MS: 0,
  SHUTDOWN_TIMEOUT_MS: 5000,
};

describe('startService', () => {
  it('answers /readyz 503 until the public port is listening, then 200 (issue 15 item 10)', async () => {
    const { destination } = captureLogs();
    const platform = createPlatform({ service: 'demo', config, logDestination: destination, collectProcessMetrics: false });
    const app = createHttpApp(platform, { config });
    // A plugin that loads slowly, as every plugin does on a busy machine: app.listen waits for it.
    let releasePlugin!: () => void;
    const pluginGate = new Promise<void>((resolve) => (releasePlugin = resolve));
    let pluginStarted = false;
    void app.register(async () => {
      pluginStarted = true;
      await pluginGate;
    });
    app.get('/hello', async () => ({ hello: 'world' }));
    const management = createManagementApp(platform);
    const managementPort = await freePort();

    const running = startService({ platform, config: { ...config, MANAGEMENT_PORT: managementPort }, app, management });
    try {
      await waitFor(() => pluginStarted, { what: 'the public app to start loading its plugins', timeoutMs: 30_000 });
      const early = await fetch(`http://127.0.0.1:${managementPort}/readyz`);
      const earlyReport = (await early.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
      assert.equal(early.status, 503, 'not ready while the public port is still closed');
      assert.equal(earlyReport.checks.listener?.ok, false);
      assert.match(earlyReport.checks.listener?.error ?? '', /not listening yet/);

      releasePlugin();
      const service = await running;
      const ready = await fetch(`http://127.0.0.1:${managementPort}/readyz`);
      await ready.arrayBuffer();
      assert.equal(ready.status, 200);
      const hello = await fetch(`${service.publicUrl}/hello`);
      assert.deepEqual(await hello.json(), { hello: 'world' }, 'ready means the public port answers');
    } finally {
      releasePlugin();
      await running.catch(() => undefined);
      await app.close();
      await management.close();
    }
  });
});
