/**
 * Preload: `node --import ./dist/tracing.js dist/main.js` (Dockerfile, launcher). Runs before main.ts
 * imports anything, so the OpenTelemetry instrumentations patch pg, http and the AWS SDK before the
 * app holds references to them (docs/tracing.md). Off, and the SDK not even loaded, without
 * OTEL_EXPORTER_OTLP_ENDPOINT.
 */
import { startTracing } from '@sre/platform/tracing';

export const tracing = await startTracing('gateway');
