import { loadConfigOrExit, startService } from '@sre/platform';
import { SERVICE_NAME, buildApp } from './app.js';
import { configSchema } from './config.js';
import { tracing } from './tracing.js';

const config = loadConfigOrExit(SERVICE_NAME, configSchema);
const service = buildApp(config);
await startService({
  platform: service.platform,
  config,
  app: service.app,
  management: service.management,
  resources: [
    { name: 'migrations and database', run: () => service.closeResources() },
    { name: 'trace export', run: () => tracing.shutdown() },
  ],
});
