import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LauncherState } from './state.js';
import { isLiveNodeProcess } from './process-alive.js';

/** `<data-dir>/launcher.json`: where a running `npm start` says what it runs (observe, drills, tests). */
export const STATE_FILE = 'launcher.json';

export type RecordedState = LauncherState & { pid: number };

export type StateLookup = { running: true; state: RecordedState; file: string } | { running: false; reason: string; file: string };

/**
 * The running platform described by the data folder, or why there is none. A file left by a launcher
 * that was killed (no Ctrl-C) describes dead processes: it counts as absent, as does one whose
 * service processes are all gone.
 */
export function findRunningPlatform(dataDir: string): StateLookup {
  const file = join(dataDir, STATE_FILE);
  let state: RecordedState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as RecordedState;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      running: false,
      file,
      reason: missing
        ? `no platform is running from ${dataDir} (no ${STATE_FILE}): start one with npm start -- --data-dir ${dataDir}`
        : `${file} is unreadable: ${(err as Error).message}`,
    };
  }
  if (!isLiveNodeProcess(state.pid)) return { running: false, file, reason: `${file} is stale: its launcher (pid ${state.pid}) is not running` };
  const pids = Object.values(state.services ?? {}).flatMap((s) => s.instances.map((i) => i.pid));
  if (pids.length === 0 || !pids.some((pid) => isLiveNodeProcess(pid))) return { running: false, file, reason: `${file} describes no running service process` };
  return { running: true, state, file };
}

export function removeStateFile(dataDir: string): void {
  rmSync(join(dataDir, STATE_FILE), { force: true });
}
