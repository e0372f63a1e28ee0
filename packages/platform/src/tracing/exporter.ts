import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * The OTLP/HTTP exporter the standard variable asks for. OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins over
 * OTEL_EXPORTER_OTLP_PROTOCOL (spec); http/protobuf is the spec's default. gRPC is refused: it would
 * pull a second HTTP/2 stack into every service for no gain over OTLP/HTTP.
 */
export function otlpExporterFromEnv(env: NodeJS.ProcessEnv): SpanExporter {
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
  if (protocol === 'http/json') return new OtlpJsonExporter();
  if (protocol === 'http/protobuf') return new OtlpProtobufExporter();
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json`);
}

/**
 * Says once, on stderr, that spans cannot be delivered, then stays quiet: `npm start` points every
 * service at a local receiver that is often not running, and a warning per batch would bury the logs.
 * A later success re-arms the warning, so an endpoint that goes away again is reported again.
 */
export class WarnOnceExporter implements SpanExporter {
  private warned = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly endpoint: string,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.warned = false;
      else if (!this.warned) {
        this.warned = true;
        const reason = result.error?.message ?? 'unknown error';
        this.warn(
          JSON.stringify({
            level: 'warn',
            msg: `tracing: spans could not be exported to ${this.endpoint} (${reason}); they are dropped, and further failures are not reported until an export succeeds`,
          }),
        );
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
