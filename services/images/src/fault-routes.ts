import { errorResponses, invalidRequestAs, z, type ZodTypeProvider } from '@sre/platform';
import type { FastifyInstance } from 'fastify';
import { imagesErrors } from './errors.js';
import { UPLOAD_STEPS, type UploadStep } from './service.js';

/** Where uploads are held (undefined: nowhere); shared by the route and the upload code. */
export interface UploadStall {
  at: UploadStep | undefined;
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
