import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { parseConfig } from '@sre/platform';
import { buildApp as buildGateway, type Gateway } from '@sre/gateway/app';
import { configSchema as gatewayConfigSchema } from '@sre/gateway/config';
import { DOCUMENT_FILES, buildService, generateDocuments, toJson, type BuiltService, type OpenApiDocument, type ServiceName } from '../src/documents.js';
import { WEB_TYPES_FILE, webApiTypes } from '../src/web-types.js';

const root = join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/**
 * The API contract (docs/api.md): every route declares its schemas, the generated documents are
 * valid OpenAPI 3.1 and committed as generated, the web app's types come from them, and the gateway
 * serves them without a token.
 */
describe('OpenAPI documents', () => {
  let documents: Record<keyof typeof DOCUMENT_FILES, OpenApiDocument>;
  before(async () => {
    documents = await generateDocuments();
  });

  for (const [name, file] of Object.entries(DOCUMENT_FILES)) {
    it(`${file} is what \`npm run openapi\` writes (generated, not edited)`, () => {
      assert.ok(read(file) === toJson(documents[name as keyof typeof DOCUMENT_FILES]), `${file} differs from the route schemas: run npm run openapi`);
    });

    it(`${file} is a valid OpenAPI 3.1 document`, async () => {
      const validator = new Validator();
      const result = await validator.validate(structuredClone(documents[name as keyof typeof DOCUMENT_FILES]) as never);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, '3.1', 'validated against the 3.1 schema');
    });
  }

  it('the validator rejects a broken document (control)', async () => {
    const broken = { ...structuredClone(documents.public), paths: { '/x': { get: { responses: { 200: { content: 'nope' } } } } } };
    assert.equal((await new Validator().validate(broken as never)).valid, false);
  });

  it(`${WEB_TYPES_FILE} is generated from the public document (openapi-typescript)`, async () => {
    assert.ok(read(WEB_TYPES_FILE) === (await webApiTypes(documents.public)), `${WEB_TYPES_FILE} is stale: run npm run openapi`);
    assert.match(read('packages/web/src/api.ts'), /components\['schemas'\][\s\S]*Schemas\['Image'\]/, 'the web client takes the image type from the document');
  });
});

describe('every route declares its schemas', () => {
  const built: Partial<Record<ServiceName, BuiltService>> = {};
  before(async () => {
    for (const name of ['auth', 'images'] as const) built[name] = await buildService(name);
  });
  after(async () => {
    for (const service of Object.values(built)) await service.close();
  });

  for (const name of ['auth', 'images'] as const) {
    it(`${name}: each public route has a response schema, and one for each part of the URL it reads`, () => {
      const routes = built[name]?.routes.filter((r) => r.method !== 'HEAD') ?? [];
      assert.ok(routes.length >= 6, `${name} registered ${routes.length} routes`);
      for (const route of routes) {
        const what = `${String(route.method)} ${route.url}`;
        const schema = route.schema as Record<string, unknown> | undefined;
        assert.ok(schema?.response, `${what} has no response schema`);
        if (route.url.includes(':')) assert.ok(schema.params, `${what} has path parameters but no params schema`);
        if (['POST', 'PUT', 'PATCH'].includes(String(route.method)) && !/multipart/.test(String(schema.description))) {
          assert.ok(schema.body, `${what} takes a body but has no body schema`);
        }
      }
    });
  }
});

describe('the gateway publishes the API reference', () => {
  const config = parseConfig('gateway', gatewayConfigSchema, { LOG_LEVEL: 'silent', AUTH_URL: 'http://127.0.0.1:9', IMAGES_URL: 'http://127.0.0.1:9' });
  let gateway: Gateway;
  before(async () => {
    gateway = await buildGateway(config, { collectProcessMetrics: false, fetchImpl: (async () => new Response('{}', { status: 503 })) as typeof fetch });
  });
  after(() => gateway.close());

  it('serves /api/openapi.json without a token: the committed public document', async () => {
    const res = await gateway.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), JSON.parse(read(DOCUMENT_FILES.public)));
  });

  it('serves the browsable reference at /api/docs from its own assets, under the same CSP', async () => {
    const page = await gateway.app.inject({ method: 'GET', url: '/api/docs/' });
    const index = page.statusCode === 302 ? await gateway.app.inject({ method: 'GET', url: String(page.headers.location) }) : page;
    assert.equal(index.statusCode, 200, index.body);
    assert.match(index.body, /swagger-ui/);
    assert.doesNotMatch(index.body, /https?:\/\//, 'no CDN: every asset comes from the gateway');
    assert.match(String(index.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(String(index.headers['content-security-policy']), /unsafe-inline/);
    const bundle = await gateway.app.inject({ method: 'GET', url: '/api/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
  });

  it('still asks for a token on every other /api path (control)', async () => {
    const res = await gateway.app.inject({ method: 'GET', url: '/api/images' });
    assert.equal(res.statusCode, 401);
  });
});
