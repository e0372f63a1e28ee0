import type { z } from 'zod';
import type { ChaosConfig } from './chaos.js';

/** Shortest accepted CHAOS_ADMIN_TOKEN: long enough that guessing it over the network is hopeless. */
export const CHAOS_ADMIN_TOKEN_MIN_LENGTH = 16;

/**
 * For a service schema's `superRefine`: a missing or short CHAOS_ADMIN_TOKEN while CHAOS_ENABLED=true
 * is reported with every other config problem (exit 1 at start), not as a crash in buildApp.
 */
export function refineChaosConfig(config: ChaosConfig, ctx: z.RefinementCtx): void {
  if (config.CHAOS_ENABLED && (config.CHAOS_ADMIN_TOKEN?.length ?? 0) < CHAOS_ADMIN_TOKEN_MIN_LENGTH) {
    ctx.addIssue({
      code: 'custom',
      path: ['CHAOS_ADMIN_TOKEN'],
      message: `must be at least ${CHAOS_ADMIN_TOKEN_MIN_LENGTH} characters when CHAOS_ENABLED=true`,
    });
  }
}
