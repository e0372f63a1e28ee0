/**
 * `npm run load -- [--target URL] [--rate N] [--duration 5m] [--mix ...] [--help]`: realistic user
 * flows at an arrival rate, with a live progress line on a terminal, a summary, and JSON + HTML
 * reports (docs/load.md).
 */
import { parseOptions, UsageError, USAGE } from './src/options.js';
import { describe, writeReport } from './src/report.js';
import { runLoad } from './src/scheduler.js';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`load: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  throw err;
}
if (!options) {
  console.log(USAGE);
  process.exit(0);
}

const controller = new AbortController();
// Ctrl-C stops starting flows; the running ones finish (bounded) and the report is still written.
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
const startedAt = new Date().toISOString();
const tty = process.stdout.isTTY;
console.log(
  `load: ${options.ratePerSec} flows/s for ${options.durationMs / 1000} s against ${options.target.origin} (at most ${options.maxFlows} flows, ${options.maxInFlight} in flight)`,
);
const summary = await runLoad(options, {
  signal: controller.signal,
  onTick: tty
    ? (stats, elapsedMs) =>
        process.stdout.write(
          `\r${Math.round(elapsedMs / 1000)} s: ${stats.flowsStarted} started, ${stats.flowsCompleted} done, ${stats.flowsFailed} failed, ${stats.flowsStarted - stats.flowsCompleted - stats.flowsFailed} in flight, ${stats.droppedStarts} dropped   `,
        )
    : undefined,
});
if (tty) process.stdout.write('\n');
console.log(describe(summary));
const files = writeReport(options.outDir, {
  tool: 'sre-platform load',
  target: options.target.origin,
  startedAt,
  settings: {
    ratePerSec: options.ratePerSec,
    durationSec: options.durationMs / 1000,
    mix: options.mix,
    maxInFlight: options.maxInFlight,
    maxFlows: options.maxFlows,
  },
  summary,
});
console.log(`reports: ${files.json}, ${files.html}`);
process.exitCode = summary.flowsFailed > 0 || summary.droppedStarts > 0 ? 1 : 0;
