import type { Platform } from './platform.js';

export interface ShutdownStep {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface ShutdownOptions {
  platform: Platform;
  /** Keep serving this long after readiness fails, while endpoints forget the pod. */
  drainDelayMs: number;
  /** Hard stop; keep it below terminationGracePeriodSeconds. */
  timeoutMs: number;
  /** Run in order after the drain delay: stop accepting and finish in-flight, then close pools. */
  steps: readonly ShutdownStep[];
  exit?: (code: number) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ordered graceful shutdown (docs/shutdown.md): readiness fails at once → drain delay while still
 * serving → steps in order (listener closed, in-flight finished, pools closed) → logs flushed → exit 0.
 * Safe to call twice: the second call returns the first call's promise.
 */
export function createShutdown(options: ShutdownOptions): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const log = options.platform.logger;
  let running: Promise<void> | undefined;

  return (reason: string) => {
    running ??= (async () => {
      const hardStop = setTimeout(() => {
        log.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out; exiting now');
        log.flush();
        exit(1);
      }, options.timeoutMs);
      hardStop.unref();
      log.info({ reason, drainDelayMs: options.drainDelayMs }, 'shutdown started; readiness now fails');
      options.platform.health.startDraining();
      await sleep(options.drainDelayMs);
      let failed = false;
      for (const step of options.steps) {
        try {
          await step.run();
          log.info({ step: step.name }, 'shutdown step done');
        } catch (err) {
          failed = true;
          log.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      clearTimeout(hardStop);
      log.info('shutdown complete');
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      exit(failed ? 1 : 0);
    })();
    return running;
  };
}
