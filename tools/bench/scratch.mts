import { startFastApiReference } from './src/upload-targets.ts';
import { runDriver } from './src/measure.ts';
const t = await startFastApiReference();
try {
  const r = await runDriver({ url: t.uploadUrl, file: process.argv[2]!, filename: 'a.jpg', headers: t.headers, concurrency: 4, warmupMs: 500, durationMs: 2000 });
  console.log({ ...r, latenciesMs: r.latenciesMs.length });
} finally { await t.stop(); }
