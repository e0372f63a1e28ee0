/**
 * npm run drill -- <scenario|all> [--target local|kubernetes] [--dry-run] [options]
 * Runs failure drills (docs/drills.md). Exit code 0 only when every expectation held
 * (a dry run exits 0 when every plan could be built).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { runDrill } from './src/runner.js';
import { writeReport } from './src/report/write.js';
import { exitCodeFor, expectationTable } from './src/terminal.js';
import { KubernetesTarget } from './src/targets/kubernetes.js';
import { LocalTarget, attachLocalTarget, controlFor, plannedLocalTarget } from './src/targets/local.js';
import { startLocalPlatform, type LocalPlatform } from './src/local-platform.js';
import { scenariosFor } from './src/scenarios.js';
import { SCENARIOS, type Journal, type ScenarioName, type Target } from './src/types.js';

const USAGE = `usage: npm run drill -- <scenario|all> [--target local|kubernetes] [--dry-run] [options]

scenarios: ${SCENARIOS.join(', ')}, all

options:
  --target local|kubernetes   where to run (default local: the services of \`npm start\`)
  --dry-run                   print every action and check, change nothing
  --out DIR                   where reports go (default .data/drills/<time>-<scenario>)
  --steady-ms MS              steady-state window before injecting (default 6000)
  --rate N                    synthetic requests per second (default 8)
  --steady-p95-ms MS          steady-state latency threshold, p95 per class (default 1000; raise it on a busy machine)
 local (default: the drill starts the platform itself with the launcher of \`npm start\`, Images ×2,
        a real PostgreSQL and S3 server it can stop, and the stack of \`npm run observe\`):
  --time-scale N              divide alert for:, rule ranges and Alertmanager timers by N (default 1 = real)
  --attach                    use a running \`npm start\` + \`npm run observe\` instead (CHAOS_ADMIN_TOKEN
                              in the environment; not for secret-deletion, database- and storage-outage)
  --observe-state FILE        with --attach (default .data/observe/state.json)
  --launcher-state FILE       with --attach (default .data/launcher.json)
 kubernetes:
  --context NAME              kubectl context (default: the current one)
  --gateway-url URL           send traffic here (e.g. the Ingress) instead of a port-forward
  --bound-scale F             stretch the slack of the derived bounds and the probe bounds by F (default 1)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string', default: 'local' },
      'dry-run': { type: 'boolean', default: false },
      out: { type: 'string' },
      'steady-ms': { type: 'string' },
      rate: { type: 'string' },
      'steady-p95-ms': { type: 'string' },
      'observe-state': { type: 'string' },
      'time-scale': { type: 'string' },
      attach: { type: 'boolean', default: false },
      'launcher-state': { type: 'string' },
      context: { type: 'string' },
      'gateway-url': { type: 'string' },
      'bound-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const wanted = positionals[0] as string;
  if (wanted !== 'all' && !SCENARIOS.includes(wanted as ScenarioName)) {
    console.error(`unknown scenario '${wanted}'\n\n${USAGE}`);
    return 2;
  }
  const targetName = values.target === 'kubernetes' ? 'kubernetes' : 'local';
  const scenarios: ScenarioName[] = wanted === 'all' ? scenariosFor(targetName, SCENARIOS) : [wanted as ScenarioName];
  const dryRun = values['dry-run'];
  let target: Target;
  let platform: LocalPlatform | undefined;
  let platformDir: string | undefined;
  if (values.target === 'kubernetes') {
    target = new KubernetesTarget({
      ...(values.context ? { context: values.context } : {}),
      ...(values['gateway-url'] ? { gatewayUrl: values['gateway-url'] } : {}),
      ...(values['bound-scale'] ? { boundScale: Number(values['bound-scale']) } : {}),
    });
  } else if (values.target === 'local') {
    const timeScale = values['time-scale'] ? Number(values['time-scale']) : 1;
    if (!(timeScale >= 1 && timeScale <= 60)) {
      console.error('--time-scale must be a number from 1 to 60');
      return 2;
    }
    if (values.attach) {
      target = attachLocalTarget({
        dryRun,
        ...(values['observe-state'] ? { observeStateFile: values['observe-state'] } : {}),
        ...(values['launcher-state'] ? { launcherStateFile: values['launcher-state'] } : {}),
      });
    } else if (dryRun) {
      target = plannedLocalTarget(timeScale);
    } else {
      console.log(`starting the local platform for drills (launcher, Images ×2, PostgreSQL, S3, Prometheus, Alertmanager; time scale 1/${timeScale}) …`);
      // A folder of its own per run: a second `npm run drill` started meanwhile (another terminal) used to
      // empty the shared one under the first's PostgreSQL and object storage.
      const drillsDir = join(process.cwd(), '.data', 'drills');
      mkdirSync(drillsDir, { recursive: true });
      platformDir = mkdtempSync(join(drillsDir, 'platform-'));
      platform = await startLocalPlatform({ dataDir: platformDir, timeScale, say: (line) => console.log(`  ${line}`) });
      console.log(
        `  gateway ${platform.gatewayUrl} · Prometheus ${platform.observe.prometheusUrl} · Alertmanager ${platform.observe.alertmanagerUrl}${platform.observe.sinkUrl ? ` · Slack sink ${platform.observe.sinkUrl}/notifications` : ''}`,
      );
      target = new LocalTarget(controlFor(platform));
    }
  } else {
    console.error(`unknown target '${values.target}' (local or kubernetes)`);
    return 2;
  }

  const controller = new AbortController();
  let interrupts = 0;
  // SIGTERM (a CI time limit, `kill`) rolls back and stops the drill platform like the first Ctrl-C:
  // without it the platform's processes were left running.
  process.once('SIGTERM', () => {
    console.error('\nSIGTERM: stopping observation and rolling back');
    controller.abort();
  });
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1) {
      console.error('\nCtrl-C: stopping observation and rolling back (press Ctrl-C twice more to exit without rollback)');
      controller.abort();
    } else if (interrupts >= 3) {
      console.error('exiting WITHOUT completing rollback: check the platform by hand');
      process.exit(130);
    }
  });

  const journals: Journal[] = [];
  const unplannable: string[] = [];
  try {
    for (const scenario of scenarios) {
      if (controller.signal.aborted) break;
      // A plan that cannot be built (an alert missing from monitoring/rules) fails this scenario, not the others.
      try {
        target.plan(scenario);
      } catch (err) {
        const message = `${scenario}: cannot plan: ${err instanceof Error ? err.message : String(err)}`;
        console.error(`✘ ${message}\n`);
        unplannable.push(message);
        continue;
      }
      const journal = await runDrill(target, scenario, {
        dryRun,
        signal: controller.signal,
        print: (line) => console.log(line),
        ...(values['steady-ms'] ? { steadyStateMs: Number(values['steady-ms']) } : {}),
        ...(values.rate ? { ratePerSecond: Number(values.rate) } : {}),
        ...(values['steady-p95-ms'] ? { steadyMaxP95Ms: Number(values['steady-p95-ms']) } : {}),
      });
      journals.push(journal);
      if (!dryRun) {
        const stamp = journal.startedAt.replace(/[:.]/g, '-');
        const dir = values.out ? resolve(values.out, scenarios.length > 1 ? scenario : '') : join(process.cwd(), '.data', 'drills', `${stamp}-${scenario}`);
        const files = writeReport(journal, dir);
        console.log('');
        console.log(expectationTable(journal));
        console.log(`\nresult: ${journal.result.toUpperCase()}${journal.reason ? ` — ${journal.reason}` : ''}`);
        console.log(`report: ${files.html}\n        ${files.markdown}\n        ${files.journal}\n`);
      } else {
        console.log('');
      }
    }
  } finally {
    await platform?.stop();
    // Reports keep what they need (log excerpts, journal); the platform's data goes with it.
    if (platformDir) rmSync(platformDir, { recursive: true, force: true });
  }
  if (dryRun) return unplannable.length === 0 ? 0 : 1;
  if (journals.length + unplannable.length > 1) {
    console.log('summary:');
    for (const j of journals) console.log(`  ${j.result === 'passed' ? '✔' : '✘'} ${j.scenario}: ${j.result}`);
    for (const u of unplannable) console.log(`  ✘ ${u}`);
  }
  return exitCodeFor(journals, scenarios.length);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
