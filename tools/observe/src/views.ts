import { createServer, type Server } from 'node:http';
import { otlpHttpHandler } from './traces/otlp.js';
import { TraceStore } from './traces/store.js';
import { startViewer, type Viewer } from './viewer/server.js';

/**
 * What a person looks at beside the local Prometheus: the dashboards viewer (default
 * http://localhost:3000, the address the cluster's Grafana is forwarded to) and an OTLP/HTTP
 * receiver on 127.0.0.1:4318 — the standard OTLP/HTTP port, where `npm start` exports traces to —
 * that feeds the viewer's trace store.
 */

export const DEFAULT_VIEWER_PORT = 3000;
export const DEFAULT_OTLP_PORT = 4318;

export interface LocalViews {
  readonly viewerUrl: string;
  /** Where services send OTLP/HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT to this. */
  readonly otlpEndpoint: string;
  readonly store: TraceStore;
  close(): Promise<void>;
}

export async function startLocalViews(options: {
  prometheusUrl: string;
  scrapeIntervalSeconds: number;
  host?: string;
  viewerPort?: number;
  otlpPort?: number;
  maxTraces?: number;
}): Promise<LocalViews> {
  const host = options.host ?? '127.0.0.1';
  const store = new TraceStore({ maxTraces: options.maxTraces ?? 2000 });
  const receive = otlpHttpHandler(store);
  const otlp: Server = createServer((req, res) => {
    // A GET of the printed endpoint says what it is (every URL observe prints answers 200).
    if (req.method === 'GET' && req.url === '/')
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OTLP/HTTP receiver of npm run observe: POST /v1/traces\n');
    else receive(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    otlp.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`the OTLP port ${host}:${options.otlpPort} is taken (another collector or observe?); choose one with --otlp-port`)
          : err,
      ),
    );
    otlp.listen(options.otlpPort ?? 0, host, () => resolve());
  });
  const closeOtlp = () => new Promise<void>((resolve) => otlp.close(() => resolve()));
  let viewer: Viewer;
  try {
    viewer = await startViewer({
      prometheusUrl: options.prometheusUrl,
      store,
      scrapeIntervalSeconds: options.scrapeIntervalSeconds,
      host,
      ...(options.viewerPort !== undefined ? { port: options.viewerPort } : {}),
    });
  } catch (err) {
    await closeOtlp();
    const e = err as NodeJS.ErrnoException;
    throw e.code === 'EADDRINUSE' ? new Error(`the viewer port ${host}:${options.viewerPort} is taken; choose one with --port`) : e;
  }
  const address = otlp.address();
  const otlpPort = typeof address === 'object' && address ? address.port : 0;
  return {
    viewerUrl: viewer.url,
    otlpEndpoint: `http://${host}:${otlpPort}`,
    store,
    async close() {
      await Promise.all([viewer.close(), closeOtlp()]);
    },
  };
}
