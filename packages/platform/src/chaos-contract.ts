import { z } from 'zod';
import { defineErrorCatalogue } from './errors.js';

/** The faults a service can be told to inject (chaos.ts). */
export const CHAOS_FAULTS = ['readiness', 'latency', 'errors', 'cpu', 'memory'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export const CHAOS_TOKEN_HEADER = 'x-chaos-token';

export const chaosErrors = defineErrorCatalogue({
  CHAOS_INJECTED_FAULT: { status: 503, message: 'The service is failing on purpose (fault injection); retry.' },
  CHAOS_UNAUTHORIZED: { status: 401, message: 'A valid chaos admin token is required.' },
  CHAOS_INVALID_FAULT: { status: 400, message: 'The fault settings are invalid.' },
});

export interface ActiveFault {
  fault: ChaosFault;
  settings: ChaosFaultSettings;
  since: string;
  until: string;
}

export interface ChaosController {
  readonly enabled: boolean;
  active(): ActiveFault[];
  set(fault: ChaosFault, settings: ChaosFaultSettings, by?: string): ActiveFault;
  clear(fault: ChaosFault, reason?: string): boolean;
  clearAll(reason?: string): void;
}

/** Upper bounds of the settings: enough for any drill, not enough to take the node down. */
const MAX = { latencyMs: 120_000, workers: 8, mbPerSecond: 512, maxMb: 8192 } as const;

const int = (min: number, max: number) =>
  z
    .number()
    .int(`must be an integer from ${min} to ${max}`)
    .min(min, `must be an integer from ${min} to ${max}`)
    .max(max, `must be an integer from ${min} to ${max}`);
const share = z
  .number()
  .gt(0, 'must be a number in (0, 1]')
  .lte(1, 'must be a number in (0, 1]')
  .meta({ description: 'Share of public requests affected (default 1).' });
const pathPrefix = z
  .string()
  .startsWith('/', 'must be a path starting with /')
  .max(200, 'must be a path starting with /')
  .meta({ description: 'Only requests whose path starts with this.' });

/**
 * Settings accepted by `PUT /chaos/faults/:fault` (JSON body), one strict schema per fault: a
 * setting another fault takes is refused, not ignored. `maxDurationMs` is the controller's option.
 */
export function chaosSettingsSchemas(maxDurationMs: number) {
  const durationMs = int(100, maxDurationMs).meta({ description: 'How long the fault stays on; it switches itself off afterwards.' });
  return {
    readiness: z.strictObject({ durationMs }),
    latency: z.strictObject({ durationMs, latencyMs: int(1, MAX.latencyMs), share: share.optional(), pathPrefix: pathPrefix.optional() }),
    errors: z.strictObject({ durationMs, share: share.optional(), pathPrefix: pathPrefix.optional() }),
    cpu: z.strictObject({ durationMs, workers: int(1, MAX.workers).optional().meta({ description: 'Busy threads (default 1).' }) }),
    memory: z.strictObject({
      durationMs,
      mbPerSecond: int(1, MAX.mbPerSecond).optional().meta({ description: 'Megabytes added per second (default 16).' }),
      maxMb: int(1, MAX.maxMb).optional().meta({ description: 'Stop growing here (default 256).' }),
    }),
  } as const;
}

/** Every setting of every fault (the union of the schemas above, all but durationMs optional). */
export interface ChaosFaultSettings {
  durationMs: number;
  latencyMs?: number;
  share?: number;
  pathPrefix?: string;
  workers?: number;
  mbPerSecond?: number;
  maxMb?: number;
}

/** Parses the settings for one fault: the settings, or what is wrong with them in one sentence. */
export function parseChaosSettings(fault: ChaosFault, body: unknown, maxDurationMs: number): ChaosFaultSettings | string {
  const result = chaosSettingsSchemas(maxDurationMs)[fault].safeParse(body);
  if (result.success) return result.data;
  return result.error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown settings for ${fault}: ${issue.keys.join(', ')}`;
      if (issue.path.length === 0) return 'the body must be a JSON object';
      const name = issue.path.join('.');
      return issue.code === 'invalid_type' && issue.input === undefined ? `${name} is required` : `${name} ${issue.message}`;
    })
    .join('; ');
}
