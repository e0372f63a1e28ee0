process.on('exit', (c) => console.error('EXIT', c)); for (const s of ['SIGINT','SIGTERM','SIGHUP','SIGPIPE'] as const) process.on(s, () => console.error('SIGNAL', s));
import { startLocalPlatform } from './src/local-platform.js';
import { LocalTarget, controlFor } from './src/targets/local.js';
import { runDrill } from './src/runner.js';
import { writeReport } from './src/report/write.js';
import { expectationTable } from './src/terminal.js';
import type { ScenarioName } from './src/types.js';
const t0 = Date.now();
const platform = await startLocalPlatform({ dataDir: '/tmp/drt/platform', timeScale: 10, say: (l) => console.log('  ' + l) });
console.log('platform up in', Date.now() - t0, 'ms', platform.gatewayUrl);
try {
  for (const s of (process.argv[2] ?? 'pod-deletion').split(',')) {
    const t1 = Date.now();
    const j = await runDrill(new LocalTarget(controlFor(platform)), s as ScenarioName, { print: (l) => console.log(l), steadyStateMs: 4000 });
    writeReport(j, `/tmp/drt/report-${s}`);
    console.log(expectationTable(j));
    console.log(s, j.result, j.reason ?? '', 'in', Date.now() - t1, 'ms');
  }
} finally {
  await platform.stop();
}
