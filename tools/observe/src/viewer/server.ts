import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../config.js';
import type { TraceStore } from '../traces/store.js';
import { DASHBOARDS_DIR, listDashboards, readDashboard } from './dashboards.js';
import { PROXY_PREFIX, proxyPrometheus } from './prom-proxy.js';

/**
 * The viewer of `npm run observe` (http://localhost:3000 by default): our Grafana dashboards drawn
 * from the local Prometheus, and the local trace view. One origin serves the page, its script
 * (tools/observe/ui, bundled with uPlot from node_modules at start: no CDN), the Prometheus proxy
 * and the trace API, so the CSP allows 'self' only. See docs/observe.md for what it does not do.
 */

export interface ViewerOptions {
  prometheusUrl: string;
  store: TraceStore;
  scrapeIntervalSeconds: number;
  host?: string;
  port?: number;
  dashboardsDir?: string;
}

export interface Viewer {
  readonly url: string;
  close(): Promise<void>;
}

const UI_DIR = join(REPO_ROOT, 'tools', 'observe', 'ui');
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SRE Platform — observe</title>
<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/app.css">
</head><body><nav><a href="/">Dashboards</a> <a href="/traces">Traces</a></nav><main id="app"></main>
<script type="module" src="/assets/app.js"></script></body></html>
`;

async function bundleUi(): Promise<string> {
  const out = await build({
    entryPoints: [join(UI_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    minify: true,
    sourcemap: false,
    logLevel: 'silent',
  });
  return (out.outputFiles[0] as { text: string }).text;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' }).end(body);
}
const json = (res: ServerResponse, status: number, body: unknown) => send(res, status, 'application/json', JSON.stringify(body));

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const dashboardsDir = options.dashboardsDir ?? DASHBOARDS_DIR;
  const script = await bundleUi();
  const uplotCss = readFileSync(join(createRequire(import.meta.url).resolve('uplot'), '..', 'uPlot.min.css'));
  const appCss = readFileSync(join(UI_DIR, 'app.css'));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://viewer');
    const path = url.pathname;
    if (path.startsWith(`${PROXY_PREFIX}/`)) return proxyPrometheus(options.prometheusUrl, req, res, url);
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
    if (path === '/' || path.startsWith('/d/') || path === '/traces' || path.startsWith('/traces/')) return send(res, 200, 'text/html; charset=utf-8', PAGE);
    if (path === '/assets/app.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
    if (path === '/assets/uPlot.min.css') return send(res, 200, 'text/css', uplotCss);
    if (path === '/assets/app.css') return send(res, 200, 'text/css', appCss);
    if (path === '/-/ready') return send(res, 200, 'text/plain', 'ok');
    if (path === '/api/config') return json(res, 200, { scrapeIntervalSeconds: options.scrapeIntervalSeconds });
    if (path === '/api/dashboards') return json(res, 200, listDashboards(dashboardsDir));
    if (path.startsWith('/api/dashboards/')) {
      const dashboard = readDashboard(decodeURIComponent(path.slice('/api/dashboards/'.length)), dashboardsDir);
      return dashboard ? json(res, 200, dashboard) : json(res, 404, { error: 'no such dashboard' });
    }
    if (path === '/api/traces') {
      const order = url.searchParams.get('order') ?? 'recent';
      if (order !== 'recent' && order !== 'slowest' && order !== 'errors') return json(res, 400, { error: 'order is recent, slowest or errors' });
      return json(res, 200, options.store.list({ order, limit: Math.min(500, Number(url.searchParams.get('limit') ?? 100) || 100) }));
    }
    if (path.startsWith('/api/traces/')) {
      const spans = options.store.get(path.slice('/api/traces/'.length).toLowerCase());
      return spans ? json(res, 200, spans) : json(res, 404, { error: 'trace not found (not received, or evicted: only recent traces are kept)' });
    }
    return json(res, 404, { error: 'not found' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, { error: err.message });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
