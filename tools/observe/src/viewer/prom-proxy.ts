import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The viewer's only way to Prometheus: a same-origin proxy for the read endpoints the dashboards
 * need, so the page's CSP can stay `connect-src 'self'` and nothing else of Prometheus (admin,
 * lifecycle, remote write) is reachable through the viewer.
 */

const ALLOWED = [
  /^\/api\/v1\/query$/,
  /^\/api\/v1\/query_range$/,
  /^\/api\/v1\/query_exemplars$/,
  /^\/api\/v1\/series$/,
  /^\/api\/v1\/labels$/,
  /^\/api\/v1\/label\/[A-Za-z_][A-Za-z0-9_]*\/values$/,
];

export const PROXY_PREFIX = '/api/prom';

export function isAllowedPrometheusPath(path: string): boolean {
  return ALLOWED.some((re) => re.test(path));
}

export async function proxyPrometheus(prometheusUrl: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.slice(PROXY_PREFIX.length);
  if (req.method !== 'GET' || !isAllowedPrometheusPath(path)) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        status: 'error',
        error: `not proxied: ${req.method} ${path} (only GET of query, query_range, query_exemplars, series, labels, label values)`,
      }),
    );
    return;
  }
  try {
    const upstream = await fetch(`${prometheusUrl}${path}${url.search}`, { signal: AbortSignal.timeout(30_000) });
    res
      .writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
      .end(Buffer.from(await upstream.arrayBuffer()));
  } catch (err) {
    res
      .writeHead(502, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: `Prometheus at ${prometheusUrl}: ${(err as Error).message}` }));
  }
}
