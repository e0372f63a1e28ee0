import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenApiDocument } from './documents.js';

/** The web app's API types, generated from the gateway's public document (openapi-typescript). */
export const WEB_TYPES_FILE = 'packages/web/src/api-types.generated.ts';

export async function webApiTypes(publicDoc: OpenApiDocument): Promise<string> {
  const ast = await openapiTS(structuredClone(publicDoc) as never);
  return `/* Generated from services/gateway/src/openapi/public-api.json by \`npm run openapi\` (tools/openapi) — do not edit. */\n\n${astToString(ast)}`;
}
