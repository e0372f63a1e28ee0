import type { z } from 'zod';
import { envBool, envOptionalSecret } from './config.js';

// The chaos settings' schema lives here, apart from chaos.ts (the routes and faults), so a service's
// config module can refine them without loading the fault machinery, and the two import one way.

/** Spread into a service's config schema: `...chaosConfigShape`. */
export const chaosConfigShape = {
  CHAOS_ENABLED: envBool(false),
  /**
   * Shared secret for the /chaos routes; required (>= 16 characters) when CHAOS_ENABLED=true. A value
   * copied from secrets.example.yaml (CHANGE_ME…) is refused like every other secret (issue 15, item 3).
   */
  CHAOS_ADMIN_TOKEN: envOptionalSecret(),
} as const;

export interface ChaosConfig {
  CHAOS_ENABLED: boolean;
  CHAOS_ADMIN_TOKEN?: string | undefined;
}

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
