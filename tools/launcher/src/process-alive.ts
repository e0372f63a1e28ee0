import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is a live Node.js process. A pid in a lock or state file outlives its process; after
 * a reboot or a long time the number may belong to something else, so a live pid that is not
 * `node` counts as dead too (Linux: /proc; elsewhere the signal check alone).
 */
export function isLiveNodeProcess(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but someone else's
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return /node/.test(argv0);
  } catch {
    return true;
  }
}
