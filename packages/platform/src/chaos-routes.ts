import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CHAOS_FAULTS, CHAOS_TOKEN_HEADER, chaosErrors, parseChaosSettings, type ChaosController } from './chaos-contract.js';
import { errorBody } from './errors.js';
import type { Logger } from './logging.js';
import { invalidRequestAs, type ZodTypeProvider } from './route-schemas.js';

/** Equal-length digests so the comparison takes the same time whatever the input (no length oracle). */
function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers[CHAOS_TOKEN_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return undefined;
}

const faultParams = z.object({ fault: z.enum(CHAOS_FAULTS, { error: `unknown fault; known: ${CHAOS_FAULTS.join(', ')}` }) });
const schemaErrorFormatter = invalidRequestAs({ params: chaosErrors.CHAOS_INVALID_FAULT });

export interface ChaosRoutesOptions {
  controller: ChaosController;
  service: string;
  token: string;
  maxDurationMs: number;
  log: Logger;
}

/** The /chaos routes of the management port, each behind the admin token (only when enabled). */
export function chaosRoutes(options: ChaosRoutesOptions) {
  const { controller, log } = options;
  return async function chaosRoutes(scope: FastifyInstance): Promise<void> {
    scope.addHook('onRequest', async (request, reply) => {
      const presented = presentedToken(request);
      if (presented === undefined || !tokenMatches(presented, options.token)) {
        log.warn({ ip: request.ip, url: request.url }, 'chaos request refused: bad or missing token');
        const e = chaosErrors.CHAOS_UNAUTHORIZED();
        return reply
          .code(e.statusCode)
          .header('www-authenticate', 'Bearer')
          .send(errorBody(e.code, e.message, request.id));
      }
      return undefined;
    });
    const api = scope.withTypeProvider<ZodTypeProvider>();

    api.get('/chaos', async () => ({ service: options.service, enabled: controller.enabled, faults: controller.active() }));

    api.put('/chaos/faults/:fault', { schema: { params: faultParams }, schemaErrorFormatter }, async (request) => {
      // The body's schema depends on the fault (chaos-contract.ts), so it is parsed here, not by the route.
      const settings = parseChaosSettings(request.params.fault, request.body ?? {}, options.maxDurationMs);
      if (typeof settings === 'string') throw chaosErrors.CHAOS_INVALID_FAULT(`The fault settings are invalid: ${settings}.`);
      return controller.set(request.params.fault, settings, request.ip);
    });

    api.delete('/chaos/faults/:fault', { schema: { params: faultParams }, schemaErrorFormatter }, async (request) => ({
      fault: request.params.fault,
      cleared: controller.clear(request.params.fault, 'cleared through the API'),
    }));

    api.delete('/chaos', async () => {
      controller.clearAll('cleared through the API');
      return { faults: controller.active() };
    });
  };
}
