import { loadConfigOrExit, startService } from '@sre/platform';
import { buildApp } from './app.js';
import { configSchema } from './config.js';
import { tracing } from './tracing.js';

const config = loadConfigOrExit('gateway', configSchema);
const gateway = await buildApp(config);
await startService({
  platform: gateway.platform,
  config,
  app: gateway.app,
  management: gateway.management,
  resources: [
    { name: 'gateway clients', run: () => gateway.close() },
    { name: 'trace export', run: () => tracing.shutdown() },
  ],
});
