// placeholder; replaced below once the launcher's interface is known
import type { Target } from '../types.js';

export interface LocalTargetOptions {
  dryRun?: boolean;
  observeStateFile?: string;
  launcherStateFile?: string;
}

export function createLocalTarget(_options: LocalTargetOptions): Target {
  throw new Error('not yet');
}
