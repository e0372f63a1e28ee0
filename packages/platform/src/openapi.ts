import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** The Bearer scheme every token-protected route declares (`security: bearerAuth`). */
export const bearerAuth = [{ bearerAuth: [] }];

/**
 * Collects an OpenAPI 3.1 document from the zod route schemas (@fastify/swagger + the zod
 * provider's transforms). Only collected here: nothing is served by the services themselves —
 * tools/openapi writes each service's document to a committed file, and the gateway publishes the
 * combined public API (docs/api.md).
 */
export function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...info },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
}
