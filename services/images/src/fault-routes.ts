import { errorResponses, invalidRequestAs, z, type ZodTypeProvider } from '@sre/platform';
import type { FastifyInstance } from 'fastify';
import { imagesErrors } from './errors.js';
import { UPLOAD_STEPS, type UploadStep } from './service.js';

/**
 * Fault drills and crash tests (FAULT_INJECTION=true only): the upload step to hold uploads at
 * (undefined: nowhere), set by the route below and awaited by the upload code, for up to a minute,
 * so a test can SIGKILL the process there (test/crash-steps.integration.test.ts).
 */
export class UploadStall {
  at: UploadStep | undefined = undefined;

  /** Resolves once uploads are no longer held at `step`, or after a minute. */
  readonly holdAt = async (step: UploadStep): Promise<void> => {
    for (let i = 0; this.at === step && i < 600; i++) await new Promise((r) => setTimeout(r, 100));
  };
}

const stallBody = z
  .object({
    enabled: z.unknown().optional().meta({ description: 'true holds uploads; anything else releases them.' }),
    at: z.enum(UPLOAD_STEPS, { error: `Unknown upload step; known: ${UPLOAD_STEPS.join(', ')}` }).optional(),
  })
  .optional();

/**
 * Fault drills only (FAULT_INJECTION=true), on the management port: hold uploads at one step
 * (UPLOAD_STEPS); without `at`, between writing the objects and inserting the row (what the drills
 * use), so a test can SIGKILL the process there (test/crash-steps.integration.test.ts).
 */
export function faultRoutes(stall: UploadStall) {
  return function faultRoutes(scope: FastifyInstance): void {
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/fault/stall-uploads',
      {
        schema: { body: stallBody, response: { 200: z.object({ stallUploads: z.boolean(), at: z.enum(UPLOAD_STEPS).nullable() }), ...errorResponses } },
        schemaErrorFormatter: invalidRequestAs({ body: imagesErrors.IMAGES_FAULT_INVALID_STEP }),
      },
      async (request) => {
        stall.at = request.body?.enabled === true ? (request.body.at ?? 'objects-stored') : undefined;
        return { stallUploads: stall.at !== undefined, at: stall.at ?? null };
      },
    );
  };
}
