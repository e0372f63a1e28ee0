import type { FastifyInstance, FastifySchemaCompiler, RouteOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppError, ErrorFactory } from './errors.js';

/**
 * One schema language for requests and responses: zod, through fastify-type-provider-zod
 * (docs/adr/0013-zod-route-schemas-and-openapi.md). Route handlers get their types from the schemas
 * (`app.withTypeProvider<ZodTypeProvider>()`), responses are checked against theirs before they
 * are sent, and the same schemas become the OpenAPI document (tools/openapi).
 */

export type { ZodTypeProvider } from 'fastify-type-provider-zod';

/** A Fastify instance whose routes take zod schemas. */
export type ZodFastifyInstance = ReturnType<typeof withZod>;

const routesByApp = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route added to an app made by the platform (tools/openapi checks each has its schemas). */
export function routesOf(app: FastifyInstance): readonly RouteOptions[] {
  return routesByApp.get(app) ?? [];
}

/** Sets the zod validator and serializer on an app (the platform's apps call it; tests may too). */
export function withZod(app: FastifyInstance) {
  app.setValidatorCompiler(validatorCompiler as FastifySchemaCompiler<unknown>);
  app.setSerializerCompiler(serializerCompiler as never);
  const routes: RouteOptions[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (route) => void routes.push(route));
  return app.withTypeProvider<ZodTypeProvider>();
}

/** The one error shape ({"error":{"code","message","requestId"}}) as a response schema. */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A stable code from the service error catalogue, e.g. AUTH_EMAIL_TAKEN.' }),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer of every service (docs/api.md).' });

/** Error answers of a route: always the one shape (`response: { 200: …, ...errorResponses }`). */
export const errorResponses = { '4xx': errorResponseSchema, '5xx': errorResponseSchema } as const;

type RequestPart = 'body' | 'querystring' | 'params' | 'headers';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
}

/**
 * A route's `schemaErrorFormatter` that answers a service's own catalogued code for an invalid part
 * of the request (e.g. a malformed id → IMAGES_INVALID_ID) instead of VALIDATION_FAILED; parts not
 * listed keep the platform's VALIDATION_FAILED. The schema's own messages say what was wrong.
 */
export function invalidRequestAs(codes: Partial<Record<RequestPart, ErrorFactory>>) {
  return (issues: ValidationIssue[], part: string): Error => {
    const factory = codes[part as RequestPart];
    const detail = issues.map((i) => `${(i.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || part}: ${i.message ?? 'invalid'}`).join('; ');
    if (factory) {
      const e: AppError = factory();
      return factory(`${e.message.replace(/\.$/, '')}: ${detail}.`);
    }
    const error = new Error(`${part}/${detail}`) as Error & { validation?: unknown };
    error.validation = issues;
    return error;
  };
}
