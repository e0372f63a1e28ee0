/**
 * Issue 11's upload figures, all in one run on this machine, 4 uploads in flight, the load driver in
 * its own process (src/upload-driver.ts):
 * - ours: POST /api/images through the gateway (token check, rate limit) to the Images service
 *   (auth, PGlite, local storage folder, metadata stripping, thumbnail), started as `npm start` does;
 * - reference: the same job in FastAPI + Pillow, 2 uvicorn workers (reference/upload_service.py);
 * - limit: the Images service's own processing (probe, strip, thumbnail) called in this process, the
 *   cost this design cannot go below.
 * During each burst a probe GETs the service's /livez every 25 ms (the images management port; the
 * reference's own /livez).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processImage } from '@sre/images/processing';
import { largeJpeg, smallJpegWithGps } from '../src/images.js';
import { percentile, probeWhile, runDriver } from '../src/measure.js';
import { describeMeans, meanMsBetween, scrape } from '../src/service-metrics.js';
import type { BenchRow, Suite } from '../src/rows.js';
import type { DriverResult } from '../src/upload-driver.js';
import { ensureReferenceInstalled, startFastApiReference, startPlatform, type UploadTarget } from '../src/upload-targets.js';

const CONCURRENCY = 4;

interface Timing {
  warmupMs: number;
  durationMs: number;
  minCompleted: number;
}

interface Burst {
  uploadsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  failed: number;
  statuses: Record<string, number>;
  livezP99Ms?: number;
  livezSamples?: number;
  livezFailures?: number;
  idleLivezMs?: number;
  /** Mean ms per processing/storage operation inside the Images service during the burst. */
  breakdown?: Record<string, number>;
}

interface Picture {
  key: 'large' | 'small';
  label: string;
  file: string;
  bytes: Buffer;
}

const summarise = (r: DriverResult): Burst => {
  // Failures are reported in the notes (statuses), and only a burst with almost nothing measured fails the suite.
  if (r.completed < 2) throw new Error(`${r.completed} uploads completed, ${r.failed} failed (answers: ${JSON.stringify(r.statuses)})`);
  return {
    uploadsPerSecond: r.completed / r.seconds,
    p50Ms: percentile(r.latenciesMs, 0.5),
    p99Ms: percentile(r.latenciesMs, 0.99),
    completed: r.completed,
    failed: r.failed,
    statuses: r.statuses,
  };
};

/** /livez p99 with nothing else running: the machine's own noise floor for the probe. */
async function idleLivezP99(target: UploadTarget): Promise<number> {
  const idle = await probeWhile(target.livezUrl, new Promise((r) => setTimeout(r, 2000)));
  return percentile(idle.latenciesMs, 0.99);
}

async function burstAgainst(target: UploadTarget, picture: Picture, timing: Timing): Promise<Burst> {
  const idleLivezMs = await idleLivezP99(target);
  const before = target.metricsUrl ? await scrape(target.metricsUrl) : undefined;
  const driving = runDriver({
    url: target.uploadUrl,
    file: picture.file,
    filename: `${picture.key}.jpg`,
    headers: target.headers,
    concurrency: CONCURRENCY,
    ...timing,
  });
  const probe = probeWhile(target.livezUrl, driving);
  const burst = summarise(await driving);
  const livez = await probe;
  const breakdown = target.metricsUrl && before ? meanMsBetween(before, await scrape(target.metricsUrl)) : undefined;
  return {
    ...burst,
    ...(breakdown ? { breakdown } : {}),
    livezP99Ms: percentile(livez.latenciesMs, 0.99),
    livezSamples: livez.latenciesMs.length,
    livezFailures: livez.failures,
    idleLivezMs,
  };
}

/** The service's processing, CONCURRENCY calls at a time, in this process. */
async function burstInProcess(picture: Picture, timing: Timing): Promise<Burst> {
  const result: DriverResult = { completed: 0, failed: 0, statuses: {}, seconds: 0, latenciesMs: [] };
  const begin = performance.now();
  const measureFrom = begin + timing.warmupMs;
  const deadline = measureFrom + timing.durationMs;
  const hardDeadline = deadline + 2 * timing.durationMs + 60_000;
  const more = () => performance.now() < deadline || (result.completed < timing.minCompleted && performance.now() < hardDeadline);
  let measuredEnd = measureFrom;
  const loop = async () => {
    while (more()) {
      const started = performance.now();
      await processImage(picture.bytes, 'image/jpeg', { maxPixels: 40_000_000, thumbnailMaxEdgePx: 256 });
      const ended = performance.now();
      if (started < measureFrom) continue;
      measuredEnd = Math.max(measuredEnd, ended);
      result.completed++;
      result.latenciesMs.push(ended - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  result.seconds = (measuredEnd - measureFrom) / 1000;
  return summarise(result);
}

async function withTarget<T>(start: () => Promise<UploadTarget>, use: (t: UploadTarget) => Promise<T>): Promise<T> {
  const target = await start();
  try {
    return await use(target);
  } finally {
    await target.stop();
  }
}

export const uploads: Suite = async ({ quick, workDir }) => {
  ensureReferenceInstalled();
  const timing: Timing = quick ? { warmupMs: 1000, durationMs: 3000, minCompleted: 8 } : { warmupMs: 3000, durationMs: 20_000, minCompleted: 40 };
  const pictures: Picture[] = [];
  for (const [key, label, make] of [
    ['large', 'large JPEG (3.4 MB, 2725×2225)', largeJpeg],
    ['small', '1200×800 JPEG with EXIF GPS', smallJpegWithGps],
  ] as const) {
    const bytes = await make();
    const file = join(workDir, `${key}.jpg`);
    writeFileSync(file, bytes);
    pictures.push({ key, label, file, bytes });
  }

  const limit: Record<string, Burst> = {};
  for (const p of pictures) limit[p.key] = await burstInProcess(p, timing);
  const reference: Record<string, Burst> = {};
  await withTarget(startFastApiReference, async (t) => {
    for (const p of pictures) reference[p.key] = await burstAgainst(t, p, timing);
  });
  const ours: Record<string, Burst> = {};
  await withTarget(startPlatform, async (t) => {
    for (const p of pictures) ours[p.key] = await burstAgainst(t, p, timing);
  });
  writeFileSync(join(workDir, 'bursts.json'), `${JSON.stringify({ timing, concurrency: CONCURRENCY, ours, reference, limit }, null, 2)}\n`);

  const notes = (b: Burst, r: Burst) =>
    `${CONCURRENCY} in flight, ${timing.durationMs / 1000} s after ${timing.warmupMs / 1000} s warm-up; ours ${b.completed} ok/${b.failed} failed ${JSON.stringify(b.statuses)}, reference ${r.completed} ok/${r.failed} failed ${JSON.stringify(r.statuses)}` +
    (b.breakdown ? `; inside the Images service, mean per upload: ${describeMeans(b.breakdown)}` : '');
  const rows: BenchRow[] = [];
  for (const p of pictures) {
    const o = ours[p.key]!;
    const ref = reference[p.key]!;
    const lim = limit[p.key]!;
    const base = { suite: 'uploads', notes: notes(o, ref) };
    const vsFastApi = o.uploadsPerSecond / ref.uploadsPerSecond;
    const vsLimit = o.uploadsPerSecond / lim.uploadsPerSecond;
    rows.push(
      {
        ...base,
        metric: `${p.label}: uploads through the gateway`,
        unit: 'uploads/s',
        ours: o.uploadsPerSecond,
        referenceName: 'FastAPI + Pillow, 2 workers',
        reference: ref.uploadsPerSecond,
        ratio: vsFastApi,
        higherIsBetter: true,
        goal: '>= 1.5x',
        met: vsFastApi >= 1.5,
      },
      {
        ...base,
        metric: `${p.label}: uploads through the gateway`,
        unit: 'uploads/s',
        ours: o.uploadsPerSecond,
        referenceName: 'in-process strip + thumbnail (limit)',
        reference: lim.uploadsPerSecond,
        ratio: vsLimit,
        higherIsBetter: true,
        goal: '>= 0.7x',
        met: vsLimit >= 0.7,
      },
      {
        ...base,
        metric: `${p.label}: upload latency p50`,
        unit: 'ms',
        ours: o.p50Ms,
        referenceName: 'FastAPI + Pillow, 2 workers',
        reference: ref.p50Ms,
        ratio: ref.p50Ms / o.p50Ms,
        higherIsBetter: false,
      },
      {
        ...base,
        metric: `${p.label}: upload latency p99`,
        unit: 'ms',
        ours: o.p99Ms,
        referenceName: 'FastAPI + Pillow, 2 workers',
        reference: ref.p99Ms,
        ratio: ref.p99Ms / o.p99Ms,
        higherIsBetter: false,
      },
      {
        ...base,
        metric: `${p.label}: /livez p99 during the burst`,
        unit: 'ms',
        ours: o.livezP99Ms!,
        referenceName: 'FastAPI /livez during its burst',
        reference: ref.livezP99Ms!,
        ratio: ref.livezP99Ms! / o.livezP99Ms!,
        higherIsBetter: false,
        goal: '< 50 ms',
        met: o.livezP99Ms! < 50 && o.livezFailures === 0,
        notes: `images service management /livez every 25 ms: ${o.livezSamples} answers, ${o.livezFailures} failures, p99 ${o.idleLivezMs?.toFixed(1)} ms when idle just before; reference ${ref.livezSamples} answers, ${ref.livezFailures} failures, ${ref.idleLivezMs?.toFixed(1)} ms idle`,
      },
    );
  }
  return rows;
};
