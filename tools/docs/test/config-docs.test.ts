import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configSchema as authSchema } from '@sre/auth/config';
import { configSchema as gatewaySchema } from '@sre/gateway/config';
import { configSchema as imagesSchema } from '@sre/images/config';
import { baseConfigShape, pgliteConfigShape, trustProxyConfigShape } from '@sre/platform';
import { TRACING_VARIABLES } from '@sre/platform/tracing';

/** The config reference is prose; this keeps it honest against the schemas it documents. */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const services = { auth: authSchema, images: imagesSchema, gateway: gatewaySchema } as const;
const shared = new Set(Object.keys(baseConfigShape));

function mentioned(doc: string, variable: string): boolean {
  return new RegExp(`\\b${variable}\\b`).test(doc);
}

describe('configuration reference', () => {
  it('docs/configuration.md lists every shared variable', () => {
    const doc = readFileSync(`${root}/docs/configuration.md`, 'utf8');
    const missing = [...shared].filter((v) => !mentioned(doc, v));
    assert.deepEqual(missing, []);
  });

  it('docs/configuration.md lists every OTEL_* variable the tracing SDK is documented to read', () => {
    const doc = readFileSync(`${root}/docs/configuration.md`, 'utf8');
    assert.deepEqual(
      TRACING_VARIABLES.filter((v) => !mentioned(doc, v)),
      [],
    );
  });

  // One meaning per concept: a variable of a shared shape is that very schema in every service that has it.
  const sharedShapes = { ...trustProxyConfigShape, ...pgliteConfigShape };
  it('TRUST_PROXY and PGLITE_DATA_DIR: every service that reads one uses the platform shape, documented once', () => {
    const doc = readFileSync(`${root}/docs/configuration.md`, 'utf8');
    const uses = { TRUST_PROXY: ['auth', 'images', 'gateway'], PGLITE_DATA_DIR: ['auth', 'images'] };
    for (const [variable, shape] of Object.entries(sharedShapes)) {
      assert.match(doc, new RegExp(`^## .*\\(\`${variable}\`\\)$`, 'm'), `docs/configuration.md needs a section on ${variable}`);
      const readers = Object.entries(services).filter(([, schema]) => variable in schema.shape);
      assert.deepEqual(
        readers.map(([service]) => service),
        uses[variable as keyof typeof uses],
        variable,
      );
      for (const [service, schema] of readers) {
        assert.equal(schema.shape[variable as keyof typeof schema.shape], shape, `services/${service} declares its own ${variable}`);
        const readme = readFileSync(`${root}/services/${service}/README.md`, 'utf8');
        const row = readme.split('\n').find((line) => line.startsWith(`| \`${variable}\``));
        assert.match(row ?? '', /docs\/configuration\.md#/, `services/${service}/README.md: the ${variable} row links the shared meaning`);
      }
    }
  });

  for (const [service, configSchema] of Object.entries(services)) {
    it(`services/${service}/README.md documents every variable of its schema`, () => {
      const readme = readFileSync(`${root}/services/${service}/README.md`, 'utf8');
      const own = Object.keys(configSchema.shape).filter((v) => !shared.has(v));
      assert.ok(own.length > 0, 'a service schema with no own variables is suspicious');
      const missing = own.filter((v) => !mentioned(readme, v));
      assert.deepEqual(missing, [], `undocumented in services/${service}/README.md`);
      assert.match(readme, /^#+ Configuration/m, 'the README needs a Configuration section (linked from docs/configuration.md)');
    });
  }
});
