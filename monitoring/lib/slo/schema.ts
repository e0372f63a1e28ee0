import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { HTTP_DURATION_BUCKETS } from '@sre/platform';
import { monitoringDir } from '../paths.js';

/**
 * monitoring/slos.yaml, validated. Every problem is reported at once, with its path in the file
 * (`services[2].slos.latency.thresholdSeconds: …`), so a typo never becomes a silently wrong rule.
 */

export const slosFile = join(monitoringDir, 'slos.yaml');

/** Rolling windows the SLOs may use (the workbook's 4 weeks, or a month). */
export const SLO_WINDOWS = ['28d', '30d'] as const;
export type SloWindow = (typeof SLO_WINDOWS)[number];

const objective = z
  .number({ error: 'must be a number (percent of good events, e.g. 99.9)' })
  .gt(0, { error: 'must be above 0 (percent of good events, e.g. 99.9)' })
  .lt(100, { error: 'must be below 100: a 100% objective leaves no error budget to alert on' });

const common = {
  objective,
  window: z.enum(SLO_WINDOWS, { error: `must be one of ${SLO_WINDOWS.join(', ')}` }),
  owner: z.string({ error: 'must name the team that owns the objective' }).min(1, { error: 'must name the team that owns the objective' }),
  description: z.string({ error: 'must say what counts as a good event' }).min(20, { error: 'must say what counts as a good event (at least a sentence)' }),
};

const availability = z.strictObject(common);

// The SLI counts requests in the histogram bucket le=threshold, so the threshold must BE a bucket
// boundary (packages/platform/src/metrics.ts); between two boundaries it could only be estimated.
const latency = z.strictObject({
  ...common,
  thresholdSeconds: z.number({ error: 'must be a number of seconds' }).refine((v) => HTTP_DURATION_BUCKETS.includes(v), {
    error: `must be one of the request-duration histogram's buckets (${HTTP_DURATION_BUCKETS.join(', ')}), see packages/platform/src/metrics.ts`,
  }),
});

const service = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'must be a Kubernetes-style name (lowercase letters, digits, -)' }),
  service: z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'must be the `service` label of the metrics (gateway, auth, images)' }),
  slos: z
    .strictObject({ availability: availability.optional(), latency: latency.optional() })
    .refine((s) => s.availability || s.latency, { error: 'needs at least one of availability, latency' }),
});

export const slosSchema = z.strictObject({ services: z.array(service).min(1, { error: 'must list at least one service' }) }).superRefine((doc, ctx) => {
  const seen = new Set<string>();
  doc.services.forEach((s, i) => {
    for (const key of [s.name, `service label ${s.service}`]) {
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['services', i], message: `duplicate ${key.startsWith('service') ? key : `name ${key}`}` });
      seen.add(key);
    }
  });
});

export type SlosDocument = z.infer<typeof slosSchema>;
export type SloKind = 'availability' | 'latency';

/** One SLO, flattened: what the generators and `npm run slo` work from. */
export interface Slo {
  /** api-service, auth-service, images-service */
  readonly name: string;
  /** The `service` label: gateway, auth, images. */
  readonly service: string;
  readonly slo: SloKind;
  /** Percent, e.g. 99.9. */
  readonly objectivePercent: number;
  /** Ratio, e.g. 0.999. */
  readonly objective: number;
  /** 1 - objective, e.g. 0.001 (rounded so 1 - 0.999 is 0.001, not 0.0010000000000000009). */
  readonly errorBudget: number;
  readonly window: SloWindow;
  readonly owner: string;
  readonly description: string;
  readonly thresholdSeconds?: number;
}

export class SloFileError extends Error {
  constructor(file: string, problems: readonly string[]) {
    super(`${file}: invalid SLO definitions:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SloFileError';
  }
}

/** Parses and validates the YAML text of an SLO file; throws SloFileError listing every problem. */
export function parseSlos(text: string, file = 'monitoring/slos.yaml'): Slo[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new SloFileError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  const result = slosSchema.safeParse(raw);
  if (!result.success) {
    throw new SloFileError(
      file,
      result.error.issues.map((i) => `${i.path.length ? formatPath(i.path) : '(top level)'}: ${i.message}`),
    );
  }
  const round = (n: number) => Number(n.toFixed(10));
  return result.data.services.flatMap((s) =>
    (['availability', 'latency'] as const).flatMap((kind) => {
      const spec = s.slos[kind];
      if (!spec) return [];
      return [
        {
          name: s.name,
          service: s.service,
          slo: kind,
          objectivePercent: spec.objective,
          objective: round(spec.objective / 100),
          errorBudget: round(1 - spec.objective / 100),
          window: spec.window,
          owner: spec.owner,
          description: spec.description,
          ...('thresholdSeconds' in spec ? { thresholdSeconds: spec.thresholdSeconds } : {}),
        },
      ];
    }),
  );
}

export function loadSlos(file = slosFile): Slo[] {
  return parseSlos(readFileSync(file, 'utf8'), file.startsWith(monitoringDir) ? `monitoring/${file.slice(monitoringDir.length + 1)}` : file);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
