/**
 * `npm run openapi`: writes each service's OpenAPI document, the gateway's public one and the web
 * app's API types from the route schemas (docs/api.md). Run it after changing a route; the tests in
 * tools/openapi/test fail while the committed files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENT_FILES, generateDocuments, toJson } from './src/documents.js';
import { WEB_TYPES_FILE, webApiTypes } from './src/web-types.js';

const root = join(import.meta.dirname, '..', '..');
const documents = await generateDocuments();
for (const [name, file] of Object.entries(DOCUMENT_FILES)) {
  writeFileSync(join(root, file), toJson(documents[name as keyof typeof DOCUMENT_FILES]));
  process.stdout.write(`wrote ${file}\n`);
}
writeFileSync(join(root, WEB_TYPES_FILE), await webApiTypes(documents.public));
process.stdout.write(`wrote ${WEB_TYPES_FILE}\n`);
