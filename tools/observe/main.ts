/**
 * npm run observe [-- --data-dir DIR] [--time-scale N] [--port 3000] [--otlp-port 4318] [--prometheus-port P] [--alertmanager-port P] [--sink-port P]
 *
 * Real Prometheus and Alertmanager (Debian packages prometheus, prometheus-alertmanager) against
 * the platform of `npm start`, with the rules and routing of monitoring/. The platform is the one
 * running from the data folder (its launcher.json); with none running, observe refuses rather than
 * scrape default ports that may belong to someone else's platform (issue 15 item 12). Slack goes to
 * SLACK_WEBHOOK_URL when set, else to a local Slack-compatible sink that prints each message.
 * Beside them: our Grafana dashboards drawn from that Prometheus and a trace view, at
 * http://localhost:3000, fed by an OTLP/HTTP receiver on 127.0.0.1:4318 (src/views.ts).
 * Ctrl-C stops everything.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findRunningPlatform, type RecordedState } from '@sre/launcher/state-file';
import { REPO_ROOT, type ScrapeTarget } from './src/config.js';
import { prometheusPage } from './src/links.js';
import { DEFAULT_OTLP_PORT, DEFAULT_VIEWER_PORT, startLocalViews } from './src/views.js';
import { missingBinaries, missingBinariesMessage, startObserve } from './src/stack.js';

const USAGE =
  'usage: npm run observe [-- --data-dir DIR] [--time-scale N] [--scrape-interval S] [--port 3000] [--otlp-port 4318] [--prometheus-port 9090] [--alertmanager-port 9093] [--sink-port 9099]';

/** The management port of every instance the launcher runs. */
function targetsOf(state: RecordedState): ScrapeTarget[] {
  return Object.entries(state.services).flatMap(([service, s]) =>
    s.instances.map((i) => ({ address: `127.0.0.1:${i.managementPort}`, service, pod: i.label.replace('#', '-') })),
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: join(REPO_ROOT, '.data') },
      'time-scale': { type: 'string', default: '1' },
      'scrape-interval': { type: 'string' },
      port: { type: 'string', default: String(DEFAULT_VIEWER_PORT) },
      'otlp-port': { type: 'string', default: String(DEFAULT_OTLP_PORT) },
      'prometheus-port': { type: 'string', default: '9090' },
      'alertmanager-port': { type: 'string', default: '9093' },
      'sink-port': { type: 'string', default: '9099' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const missing = missingBinaries();
  if (missing.length > 0) {
    console.error(missingBinariesMessage(missing));
    return 1;
  }
  const dataDir = resolve(values['data-dir']);
  const platform = findRunningPlatform(dataDir);
  if (!platform.running) {
    console.error(`observe: ${platform.reason}`);
    return 1;
  }
  const targets = targetsOf(platform.state);
  const timeScale = Number(values['time-scale']);
  const stack = await startObserve({
    targets,
    dataDir: join(dataDir, 'observe'),
    prometheusPort: Number(values['prometheus-port']),
    alertmanagerPort: Number(values['alertmanager-port']),
    sinkPort: Number(values['sink-port']),
    timeScale,
    ...(values['scrape-interval'] ? { scrapeIntervalSeconds: Number(values['scrape-interval']) } : {}),
    ...(process.env.SLACK_WEBHOOK_URL ? { slackWebhookUrl: process.env.SLACK_WEBHOOK_URL } : {}),
  });
  let views;
  try {
    views = await startLocalViews({
      prometheusUrl: stack.prometheusUrl,
      scrapeIntervalSeconds: stack.scrapeIntervalSeconds,
      viewerPort: Number(values.port),
      otlpPort: Number(values['otlp-port']),
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  // Listening before the banner: a Ctrl-C sent as soon as it shows must stop us cleanly (a test that
  // did exactly that under load saw the process die of the signal instead).
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const [alerts, targetsPage] = await Promise.all([prometheusPage(stack.prometheusUrl, 'alerts'), prometheusPage(stack.prometheusUrl, 'targets')]);
  console.log(`Dashboards    ${views.viewerUrl}  (monitoring/grafana/dashboards, from this Prometheus)`);
  console.log(
    `Traces        ${views.viewerUrl}/traces  (OTLP/HTTP in: ${views.otlpEndpoint}; start the platform with OTEL_EXPORTER_OTLP_ENDPOINT=${views.otlpEndpoint})`,
  );
  console.log(`Prometheus    ${stack.prometheusUrl}  (alerts: ${alerts}, targets: ${targetsPage})`);
  console.log(`Alertmanager  ${stack.alertmanagerUrl}`);
  console.log(
    stack.sinkUrl
      ? `Slack sink    ${stack.sinkUrl}/notifications  (SLACK_WEBHOOK_URL is not set: notifications are printed here)`
      : 'Slack         SLACK_WEBHOOK_URL (real Slack)',
  );
  console.log(`scraping      ${targets.map((t) => `${t.pod}=${t.address}`).join(', ')}${timeScale !== 1 ? `; time scale 1/${timeScale}` : ''}`);
  console.log('Ctrl-C stops the viewer, Prometheus and Alertmanager.');

  // The launcher may (re)start with other ports (e.g. a second instance): follow its state file.
  let current = JSON.stringify(targets);
  const follow = setInterval(() => {
    const found = findRunningPlatform(dataDir);
    const next = found.running ? targetsOf(found.state) : undefined;
    if (!next || JSON.stringify(next) === current) return;
    current = JSON.stringify(next);
    stack.setTargets(next).then(
      () => console.log(`observe: targets changed, Prometheus reloaded: ${next.map((t) => `${t.pod}=${t.address}`).join(', ')}`),
      (err: Error) => console.error(`observe: ${err.message}`),
    );
  }, 3000);

  await stopRequested;
  clearInterval(follow);
  console.log('\nobserve: stopping the viewer, Prometheus and Alertmanager');
  await views.close();
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
