/**
 * npm run observe [-- --time-scale N] [--prometheus-port P] [--alertmanager-port P] [--sink-port P]
 *
 * Real Prometheus and Alertmanager (Debian packages prometheus, prometheus-alertmanager) against
 * the platform of `npm start`, with the rules and routing of monitoring/. Slack goes to
 * SLACK_WEBHOOK_URL when set, else to a local Slack-compatible sink that prints each message.
 * Ctrl-C stops everything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, type ScrapeTarget } from './src/config.js';
import { DEFAULT_OBSERVE_DIR, missingBinaries, missingBinariesMessage, startObserve } from './src/stack.js';

const LAUNCHER_STATE = join(REPO_ROOT, '.data', 'launcher.json');
/** The launcher's default management ports (tools/launcher: gateway, auth, images from 9464). */
const DEFAULT_TARGETS: ScrapeTarget[] = [
  { address: '127.0.0.1:9464', service: 'gateway', pod: 'gateway' },
  { address: '127.0.0.1:9465', service: 'auth', pod: 'auth' },
  { address: '127.0.0.1:9466', service: 'images', pod: 'images' },
];

interface LauncherState {
  services: Record<string, { instances: Array<{ label: string; managementPort: number }> }>;
}

/** The management port of every instance `npm start` runs (from its state file), or the defaults. */
function launcherTargets(file = LAUNCHER_STATE): ScrapeTarget[] | undefined {
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LauncherState;
  return Object.entries(state.services).flatMap(([service, s]) => s.instances.map((i) => ({ address: `127.0.0.1:${i.managementPort}`, service, pod: i.label.replace('#', '-') })));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'time-scale': { type: 'string', default: '1' },
      'scrape-interval': { type: 'string' },
      'prometheus-port': { type: 'string', default: '9090' },
      'alertmanager-port': { type: 'string', default: '9093' },
      'sink-port': { type: 'string', default: '9099' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run observe [-- --time-scale N] [--scrape-interval S] [--prometheus-port 9090] [--alertmanager-port 9093] [--sink-port 9099]');
    return 0;
  }
  const missing = missingBinaries();
  if (missing.length > 0) {
    console.error(missingBinariesMessage(missing));
    return 1;
  }
  const found = launcherTargets();
  const targets = found ?? DEFAULT_TARGETS;
  if (!found) console.log(`observe: ${LAUNCHER_STATE} not found (is \`npm start\` running?); scraping the launcher's default management ports until it appears`);
  const timeScale = Number(values['time-scale']);
  const stack = await startObserve({
    targets,
    dataDir: DEFAULT_OBSERVE_DIR,
    prometheusPort: Number(values['prometheus-port']),
    alertmanagerPort: Number(values['alertmanager-port']),
    sinkPort: Number(values['sink-port']),
    timeScale,
    ...(values['scrape-interval'] ? { scrapeIntervalSeconds: Number(values['scrape-interval']) } : {}),
    ...(process.env.SLACK_WEBHOOK_URL ? { slackWebhookUrl: process.env.SLACK_WEBHOOK_URL } : {}),
  });
  console.log(`Prometheus    ${stack.prometheusUrl}  (alerts: ${stack.prometheusUrl}/alerts, targets: ${stack.prometheusUrl}/targets)`);
  console.log(`Alertmanager  ${stack.alertmanagerUrl}`);
  console.log(stack.sinkUrl ? `Slack sink    ${stack.sinkUrl}/notifications  (SLACK_WEBHOOK_URL is not set: notifications are printed here)` : 'Slack         SLACK_WEBHOOK_URL (real Slack)');
  console.log(`scraping      ${targets.map((t) => `${t.pod}=${t.address}`).join(', ')}${timeScale !== 1 ? `; time scale 1/${timeScale}` : ''}`);
  console.log('Ctrl-C stops Prometheus and Alertmanager.');

  // The launcher may (re)start with other ports (e.g. a second instance): follow its state file.
  let current = JSON.stringify(targets);
  const follow = setInterval(() => {
    const next = launcherTargets();
    if (!next || JSON.stringify(next) === current) return;
    current = JSON.stringify(next);
    stack.setTargets(next).then(
      () => console.log(`observe: targets changed, Prometheus reloaded: ${next.map((t) => `${t.pod}=${t.address}`).join(', ')}`),
      (err: Error) => console.error(`observe: ${err.message}`),
    );
  }, 3000);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(follow);
  console.log('\nobserve: stopping Prometheus and Alertmanager');
  await stack.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`observe: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
