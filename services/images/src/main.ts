import { loadConfigOrExit, startService } from '@sre/platform';
import { buildApp } from './app.js';
import { configSchema } from './config.js';
import { tracing } from './tracing.js';

/**
 * `node dist/main.js`            serve (public PORT, management MANAGEMENT_PORT)
 * `node dist/main.js reconcile [--dry-run] [--grace-seconds N]`
 *                                 remove orphan objects and dangling rows once, print a JSON report, exit
 */
const config = loadConfigOrExit('images', configSchema);
const [command, ...args] = process.argv.slice(2);

if (command === 'reconcile') {
  // A fresh in-memory database holds no rows, so every stored object would look like an orphan and be
  // deleted: the reconcile needs the service's real database (PGLITE_DATA_DIR unset means in memory).
  if (!config.DATABASE_URL && !config.PGLITE_DATA_DIR) {
    process.stderr.write('reconcile: set DATABASE_URL or PGLITE_DATA_DIR to the database of the objects to check (unset means an empty in-memory database)\n');
    process.exit(2);
  }
  const graceIndex = args.indexOf('--grace-seconds');
  const graceArg = graceIndex >= 0 ? Number(args[graceIndex + 1]) : undefined;
  if (graceArg !== undefined && (!Number.isInteger(graceArg) || graceArg < 0)) {
    process.stderr.write('reconcile: --grace-seconds needs a non-negative integer\n');
    process.exit(2);
  }
  // Logs go to stderr so stdout carries only the JSON report.
  const built = await buildApp(
    { ...config, LOG_LEVEL: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, CHAOS_ENABLED: false },
    { collectProcessMetrics: false, logDestination: process.stderr },
  );
  let code = 0;
  try {
    await built.ready;
    await built.storage.ensureBucket(false);
    const report = await built.reconcile({
      ...(graceArg !== undefined ? { graceMs: graceArg * 1000 } : {}),
      dryRun: args.includes('--dry-run'),
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (err) {
    process.stderr.write(`reconcile failed: ${(err as Error).message}\n`);
    code = 1;
  } finally {
    await built.close();
  }
  process.exit(code);
} else if (command !== undefined && command !== 'serve') {
  process.stderr.write(`unknown command: ${command} (expected "serve" or "reconcile")\n`);
  process.exit(2);
} else {
  const built = await buildApp(config);
  await startService({
    platform: built.platform,
    config,
    app: built.app,
    management: built.management,
    resources: [
      { name: 'images resources', run: () => built.close() },
      { name: 'trace export', run: () => tracing.shutdown() },
    ],
  });
}
