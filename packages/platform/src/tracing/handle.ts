/** What startTracing returns: whether spans are exported, and how to flush them at shutdown. */
export interface TracingHandle {
  readonly enabled: boolean;
  /** Why tracing is on or off, for the line the service logs at start. */
  readonly reason: string;
  /** Flushes the spans still queued (bounded by OTEL_BSP_EXPORT_TIMEOUT) and stops the SDK. */
  shutdown(): Promise<void>;
}
