/** The OpenTelemetry Node SDK and its instrumentations: loaded only when tracing is on (see index.ts). */
import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { otlpExporterFromEnv, WarnOnceExporter } from './exporter.js';
import type { TracingHandle } from './handle.js';

/** The management port's routes: scraped every few seconds, they would drown the real traces. */
const UNTRACED_PATHS = new Set(['/metrics', '/livez', '/readyz']);

function untraced(url: string | undefined): boolean {
  return UNTRACED_PATHS.has((url ?? '').split('?')[0]!);
}

/** Reads the standard OTEL_* variables from process.env, as the SDK's own parts (exporter, sampler, resource) do. */
export function startSdk(serviceName: string, endpoint: string, instrumentedPackages: string[]): TracingHandle {
  const env = process.env;
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, names the service (the SDK's own option would override it).
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName }),
    // Batch span processor from OTEL_BSP_* (bounded queue, spans dropped when full): exporting never
    // runs on, or waits in, a request's path.
    traceExporter: new WarnOnceExporter(otlpExporterFromEnv(env), endpoint),
    // Logs go to stdout through pino (with trace_id and span_id), not over OTLP.
    logRecordProcessors: [],
    instrumentations: [
      // Server spans for every request (the context every later span and log line hangs from) and
      // client spans for node:http (the S3 client's transport).
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => untraced(req.url) }),
      // The gateway's proxy (@fastify/reply-from) and fetch: undici's diagnostics channels.
      new UndiciInstrumentation(),
      // Route, hook and handler spans; registered on every Fastify instance through Fastify's
      // `fastify.initialization` diagnostics channel, so the services' app code does not change.
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (route) => untraced(route.url) }),
      new PgInstrumentation({ requireParentSpan: true }),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    ],
  });
  sdk.start();
  // The instrumentations patch CommonJS modules when they are required. Our code is ESM, and an
  // ESM `import` of a CommonJS package does not pass through require's hook; requiring them here
  // first puts the patched exports in the module cache that those imports then read.
  const require = createRequire(import.meta.url);
  for (const id of ['node:http', 'node:https', ...instrumentedPackages]) require(id);
  return { enabled: true, reason: `exporting to ${endpoint}`, shutdown: () => sdk.shutdown() };
}
