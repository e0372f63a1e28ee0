/**
 * `@sre/platform/tracing`: the OpenTelemetry Node SDK for one service, started by the service's
 * preload module (`node --import ./dist/tracing.js dist/main.js`, see docs/tracing.md) before any
 * application module is evaluated, so the instrumented libraries are patched before the app holds
 * references to them.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and always
 * off with OTEL_SDK_DISABLED=true. Off means the SDK is not even loaded: no context manager, no
 * patched module, nothing per request.
 */
import type { TracingHandle } from './handle.js';

export type { TracingHandle };

/** The variables the SDK reads (documented in docs/configuration.md; tools/docs/test checks). */
export const TRACING_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
  'OTEL_SDK_DISABLED',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
] as const;

export function tracingEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

export interface TracingOptions {
  /** Where OTEL_* is read; the SDK's own parts always read process.env, so only tests pass another. */
  env?: NodeJS.ProcessEnv;
  /**
   * CommonJS packages the service imports from ESM that an instrumentation patches ('pg'). Loaded by
   * the preload so that they are patched (see start.ts); only those the service uses, so the gateway
   * never loads a database driver.
   */
  instrumentedPackages?: string[];
}

/** Starts the SDK for `serviceName` (the default of OTEL_SERVICE_NAME) when the environment asks for it. */
export async function startTracing(serviceName: string, options: TracingOptions = {}): Promise<TracingHandle> {
  const env = options.env ?? process.env;
  const off = (reason: string): TracingHandle => ({ enabled: false, reason, shutdown: async () => {} });
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return off('tracing off: OTEL_SDK_DISABLED=true');
  const endpoint = tracingEndpoint(env);
  if (!endpoint) return off('tracing off: no OTEL_EXPORTER_OTLP_ENDPOINT');
  const { startSdk } = await import('./start.js');
  return startSdk(serviceName, endpoint, options.instrumentedPackages ?? []);
}
