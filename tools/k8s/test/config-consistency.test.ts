/**
 * Each service's environment in its Deployment agrees with the service's own config schema
 * (services/<dir>/src/config.ts): every required variable is provided, nothing unknown is, the
 * values (ConfigMap + generated Secret) parse, ports and probes match, URLs name real Services,
 * and the shutdown budget fits the grace period.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@sre/testkit';
import { configSchema as authSchema } from '@sre/auth/config';
import { configSchema as gatewaySchema } from '@sre/gateway/config';
import { configSchema as imagesSchema } from '@sre/images/config';
import { trustProxyConfigShape, z } from '@sre/platform';
import { checkCommandConfig, checkServiceConfig, requiredKeys, shutdownSettings, type ServiceSchema, type ServiceUnderTest } from '../verify/config.js';
import { field, find, podTemplates, resolveEnv, type IContainer, type K8sObject } from '../verify/objects.js';
import { renderDeployment, renderedPlatform } from '../verify/render.js';

const kubectl = requireTool('kubectl', 'https://kubernetes.io/docs/tasks/tools/ — kubectl renders k8s/ with its built-in kustomize');

const EMBEDDED_DB = 'unset means embedded PGlite inside the pod: data lost on restart, not shared by replicas';
const SERVICES: ServiceUnderTest[] = [
  { deployment: 'api-service', schema: gatewaySchema as unknown as ServiceSchema, clusterMustSet: {} },
  { deployment: 'auth-service', schema: authSchema as unknown as ServiceSchema, clusterMustSet: { DATABASE_URL: EMBEDDED_DB } },
  {
    deployment: 'images-service',
    schema: imagesSchema as unknown as ServiceSchema,
    clusterMustSet: { DATABASE_URL: EMBEDDED_DB, STORAGE_DRIVER: 'the default "local" writes objects into the pod, not to MinIO' },
  },
];
const byName = (name: string) => SERVICES.find((s) => s.deployment === name)!;
/** The Images reconcile CronJob runs `node dist/main.js reconcile`: the Images config schema, whole. */
const RECONCILE = {
  kind: 'CronJob',
  name: 'images-reconcile',
  schema: byName('images-service').schema,
  clusterMustSet: byName('images-service').clusterMustSet,
} as const;
const reconcileContainer = (objects: K8sObject[]) => podTemplates(objects).find((t) => t.id === 'app/images-reconcile')!.spec.containers[0]!;
/** What the reconcile must see exactly as the service does, or it judges another bucket or database. */
const RECONCILE_SHARED = [
  'DATABASE_URL',
  'STORAGE_DRIVER',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_BUCKET',
  'S3_FORCE_PATH_STYLE',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'RECONCILE_GRACE_SECONDS',
];

const container = (objects: K8sObject[], deployment: string) =>
  field<IContainer>(find(objects, 'Deployment', 'app', deployment), 'spec', 'template', 'spec', 'containers', 0)!;
const configMap = (objects: K8sObject[], deployment: string) => find(objects, 'ConfigMap', 'app', `${deployment}-config`)!.data as Record<string, string>;

describe('config consistency: Deployments vs the services’ config schemas', kubectl, () => {
  for (const service of SERVICES) {
    it(`${service.deployment}: provides every required variable, nothing unknown, values that parse`, () => {
      const { objects } = renderedPlatform();
      assert.deepEqual(checkServiceConfig(objects, service), []);
    });
  }

  it('images-reconcile CronJob: provides what the Images schema requires, nothing unknown, values that parse', () => {
    const { objects } = renderedPlatform();
    assert.deepEqual(checkCommandConfig(objects, RECONCILE), []);
  });

  it('images-reconcile CronJob: the same image, database, bucket and grace as the images-service Deployment, and runs the reconcile', () => {
    const { objects } = renderedPlatform();
    const job = reconcileContainer(objects);
    const service = container(objects, 'images-service');
    assert.equal(job.image, service.image);
    assert.deepEqual(job.command, ['node', 'dist/main.js', 'reconcile']);
    const jobEnv = resolveEnv(objects, 'app', job).env;
    const serviceEnv = resolveEnv(objects, 'app', service).env;
    for (const k of RECONCILE_SHARED) assert.equal(jobEnv[k], serviceEnv[k], `${k} differs between the CronJob and the Deployment`);
    assert.equal(jobEnv.STORAGE_DRIVER, 's3');
  });

  const brokenReconcile: [string, (objects: K8sObject[]) => void, RegExp][] = [
    [
      'no DATABASE_URL',
      (o) => (reconcileContainer(o).env = reconcileContainer(o).env!.filter((e) => e.name !== 'DATABASE_URL')),
      /images-reconcile: DATABASE_URL is not set/,
    ],
    ['no ConfigMap (local storage, no bucket)', (o) => (reconcileContainer(o).envFrom = []), /images-reconcile: STORAGE_DRIVER is not set/],
    [
      'a secret key the generated secrets lack',
      (o) => (reconcileContainer(o).env![1]!.valueFrom!.secretKeyRef!.key = 'S3_KEY'),
      /Secret app\/app-secrets has no key S3_KEY/,
    ],
  ];
  for (const [what, mutate, expected] of brokenReconcile) {
    it(`images-reconcile CronJob: fails on ${what}`, () => {
      const { objects } = renderedPlatform();
      mutate(objects);
      const problems = checkCommandConfig(objects, RECONCILE);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} among:\n${problems.join('\n') || '(none)'}`,
      );
    });
  }

  it('Auth and Images trust the gateway plus the hops the gateway trusts (it forwards that chain), so they see the client', () => {
    const { objects } = renderedPlatform();
    const trust = (deployment: string) => trustProxyConfigShape.TRUST_PROXY.parse(configMap(objects, deployment).TRUST_PROXY);
    const gateway = trust('api-service');
    assert.equal(typeof gateway, 'number', 'the gateway trusts ingress-nginx by hop count (the NetworkPolicy admits only it)');
    // One hop fewer would make ingress-nginx's address every client's address in Auth's login throttle.
    for (const upstream of ['auth-service', 'images-service']) assert.equal(trust(upstream), (gateway as number) + 1, upstream);
  });

  it('the schemas are read, not copied: Auth requires its signing key', () => {
    assert.ok(requiredKeys(byName('auth-service').schema).includes('JWT_PRIVATE_KEY'));
  });

  it('fails when a schema gains a required variable the Deployment lacks', () => {
    const { objects } = renderedPlatform();
    const schema = (gatewaySchema as unknown as z.ZodObject).extend({ UPSTREAM_API_KEY: z.string() }) as unknown as ServiceSchema;
    const problems = checkServiceConfig(objects, { ...byName('api-service'), schema });
    assert.ok(problems.includes('api-service: required UPSTREAM_API_KEY is not provided by the Deployment'), problems.join('\n'));
  });

  const broken: [string, string, (objects: K8sObject[]) => void, RegExp][] = [
    [
      'auth-service',
      'the signing key removed',
      (o) => (container(o, 'auth-service').env = container(o, 'auth-service').env!.filter((e) => e.name !== 'JWT_PRIVATE_KEY')),
      /required JWT_PRIVATE_KEY is not provided/,
    ],
    [
      'images-service',
      'a misspelt variable',
      (o) => (configMap(o, 'images-service').AUTH_JWKS_ULR = 'http://auth-service:8080/.well-known/jwks.json'),
      /provides AUTH_JWKS_ULR, which the service's config schema does not know/,
    ],
    [
      'images-service',
      'a value the schema rejects',
      (o) => (configMap(o, 'images-service').UPLOAD_MAX_IN_FLIGHT = 'eight'),
      /UPLOAD_MAX_IN_FLIGHT must be an integer/,
    ],
    ['api-service', 'an upstream left at its loopback default', (o) => delete configMap(o, 'api-service').IMAGES_URL, /IMAGES_URL keeps its loopback default/],
    [
      'images-service',
      'no DATABASE_URL (embedded PGlite in a pod)',
      (o) => (container(o, 'images-service').env = container(o, 'images-service').env!.filter((e) => e.name !== 'DATABASE_URL')),
      /DATABASE_URL is not set \(unset means embedded PGlite/,
    ],
    [
      'api-service',
      'an upstream URL naming no Service',
      (o) => (configMap(o, 'api-service').AUTH_URL = 'http://auth:8080'),
      /AUTH_URL points at host auth, which is no Service/,
    ],
    [
      'images-service',
      'an S3 endpoint on a port MinIO does not expose',
      (o) => (configMap(o, 'images-service').S3_ENDPOINT = 'http://minio:9001'),
      /S3_ENDPOINT uses port 9001/,
    ],
    [
      'auth-service',
      'PORT moved away from the container port',
      (o) => (configMap(o, 'auth-service').PORT = '3000'),
      /container port "http" is 8080, the service listens on PORT 3000/,
    ],
    [
      'api-service',
      'readiness on the wrong path',
      (o) => (container(o, 'api-service').readinessProbe!.httpGet!.path = '/healthz'),
      /readinessProbe must be GET \/readyz on the management port/,
    ],
    [
      'auth-service',
      'liveness on the app port',
      (o) => (container(o, 'auth-service').livenessProbe!.httpGet!.port = 'http'),
      /livenessProbe must be GET \/livez on the management port/,
    ],
    [
      'auth-service',
      'a secret key the generated secrets lack',
      (o) => (container(o, 'auth-service').env![0]!.valueFrom!.secretKeyRef!.key = 'DATABASE_URL'),
      /Secret app\/app-secrets has no key DATABASE_URL/,
    ],
  ];
  for (const [deployment, what, mutate, expected] of broken) {
    it(`${deployment}: fails on ${what}`, () => {
      const { objects } = renderedPlatform();
      mutate(objects);
      const problems = checkServiceConfig(objects, byName(deployment));
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} among:\n${problems.join('\n') || '(none)'}`,
      );
    });
  }

  it('each service’s shutdown (drain, then timeout) ends before terminationGracePeriodSeconds', () => {
    const { objects } = renderedPlatform();
    for (const service of SERVICES) {
      const s = shutdownSettings(objects, service);
      assert.ok(s, `${service.deployment}: config does not parse`);
      assert.ok(s.drainMs > 0 && s.drainMs < s.timeoutMs, `${service.deployment}: drain ${s.drainMs} / timeout ${s.timeoutMs}`);
      assert.ok(s.timeoutMs < s.graceMs, `${service.deployment}: timeout ${s.timeoutMs} ms is not below the grace period ${s.graceMs} ms`);
    }
  });

  it('the chaos component turns on CHAOS_ENABLED with a CHAOS_ADMIN_TOKEN the services accept', () => {
    const { workspace } = renderedPlatform();
    const objects = renderDeployment(workspace, join(workspace.root, 'tools/k8s/overlays/chaos'));
    for (const service of SERVICES) {
      assert.deepEqual(checkServiceConfig(objects, service), [], `${service.deployment} with the chaos component`);
      const env = resolveEnv(objects, 'app', container(objects, service.deployment)).env;
      const parsed = service.schema.parse(env) as { CHAOS_ENABLED?: boolean; CHAOS_ADMIN_TOKEN?: string };
      assert.equal(parsed.CHAOS_ENABLED, true, `${service.deployment}: CHAOS_ENABLED`);
      assert.ok((parsed.CHAOS_ADMIN_TOKEN ?? '').length >= 16, `${service.deployment}: CHAOS_ADMIN_TOKEN`);
    }
    // Without the component, chaos stays off.
    for (const service of SERVICES) {
      const env = resolveEnv(renderedPlatform().objects, 'app', container(renderedPlatform().objects, service.deployment)).env;
      assert.equal(env.CHAOS_ENABLED, undefined, `${service.deployment} sets CHAOS_ENABLED without the component`);
    }
  });
});
