import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLiveNodeProcess } from './process-alive.js';

/**
 * One `npm start` per data folder: two launchers on one folder would open the same PGlite files
 * (which corrupts them) and append to the same logs (issue 15 item 11). The lock is a file created
 * exclusively, holding the owner's pid; a lock whose pid is dead is stale and taken over.
 */

export const LOCK_FILE = 'launcher.lock';

interface LockContent {
  pid: number;
  startedAt: string;
  command: string;
}

export class DataDirLockedError extends Error {}

function readLock(file: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock if it is still ours. Safe to call twice; synchronous for exit hooks. */
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, startedAt: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
      return {
        file,
        release() {
          if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    if (holder && holder.pid !== process.pid && isLiveNodeProcess(holder.pid)) {
      throw new DataDirLockedError(
        `the data folder ${dataDir} is in use by another \`npm start\` (pid ${holder.pid}, started ${holder.startedAt}). ` +
          'Stop that one (Ctrl-C in its terminal, or kill ' +
          String(holder.pid) +
          '), or use another folder with --data-dir',
      );
    }
    if (holder?.pid === process.pid) throw new DataDirLockedError(`the data folder ${dataDir} is already used by this process`);
    // Stale (its process is gone) or unreadable (a crash while writing it): take it over.
    rmSync(file, { force: true });
  }
  throw new DataDirLockedError(`could not lock the data folder ${dataDir} (${file} keeps coming back)`);
}
