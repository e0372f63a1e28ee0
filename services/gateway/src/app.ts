import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createHttpApp, createManagementApp, createPlatform, installChaos, type Platform } from '@sre/platform';
import { createAccessTokens } from './access-tokens.js';
import type { Config } from './config.js';
import { apiDocs } from './plugins/api-docs.js';
import { cors, parseAllowedOrigins } from './plugins/cors.js';
import { proxyScope } from './plugins/proxy.js';
import { rateLimits } from './plugins/rate-limits.js';
import { securityHeaders } from './plugins/security-headers.js';
import { tokenCheck } from './plugins/token-check.js';
import { webApp } from './plugins/web-app.js';
import { createUpstreams, type Upstream, type UpstreamName } from './upstream.js';

export interface GatewayDeps {
  logDestination?: DestinationStream;
  collectProcessMetrics?: boolean;
  fetchImpl?: typeof fetch;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly management: FastifyInstance;
  readonly platform: Platform;
  readonly upstreams: Readonly<Record<UpstreamName, Upstream>>;
  close(): Promise<void>;
}

/** Stricter rate limit (guessing passwords, mass sign-ups). */
const CREDENTIAL_ROUTES = ['/api/auth/login', '/api/auth/register'] as const;

/**
 * The gateway, one plugin per concern (src/plugins/), in the order a request meets them. The order is
 * load-bearing: a hook or onRoute listener covers only the plugins registered after it.
 */
export async function buildApp(config: Config, deps: GatewayDeps = {}): Promise<Gateway> {
  const platform = createPlatform({
    service: 'gateway',
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    ...(deps.collectProcessMetrics === undefined ? {} : { collectProcessMetrics: deps.collectProcessMetrics }),
  });
  const app = createHttpApp(platform, { config, trustProxy: config.TRUST_PROXY });
  const management = createManagementApp(platform);

  // Made now, not in plugins: readiness needs the signing keys' check before this app loads its plugins,
  // and close() (and the tests) need the verifier and the upstreams' circuits.
  const tokens = createAccessTokens(config, platform, deps.fetchImpl);
  const { upstreams, metrics } = createUpstreams(config, platform);

  void app.register(securityHeaders, { hstsMaxAgeSec: config.HSTS_MAX_AGE_SEC });
  const corsOrigins = parseAllowedOrigins(config.CORS_ALLOWED_ORIGINS);
  if (corsOrigins.length > 0) void app.register(cors, { allowedOrigins: corsOrigins });
  // Opt-in drills (CHAOS_ENABLED=true). Not a plugin: it also adds routes to the management app, which has
  // booted by the time this app loads its plugins (it listens first). Installed once the headers' hooks are in,
  // so an injected fault is answered with the same headers as any other answer.
  await app.after();
  const chaos = installChaos(platform, app, management, { config });
  void app.register(rateLimits, config);
  void app.register(tokenCheck, tokens);
  const proxied = { metrics, config };
  void app.register(
    proxyScope({ ...proxied, upstream: upstreams.auth, prefix: '/api/auth', bodyLimit: config.BODY_LIMIT_BYTES, strictlyLimited: CREDENTIAL_ROUTES }),
  );
  void app.register(proxyScope({ ...proxied, upstream: upstreams.images, prefix: '/api/images', bodyLimit: config.UPLOAD_LIMIT_BYTES, strictlyLimited: [] }));
  void app.register(apiDocs);
  void app.register(webApp, { webRoot: config.WEB_ROOT });

  let closed: Promise<void> | undefined;
  return {
    app,
    management,
    platform,
    upstreams,
    close: () => {
      closed ??= (async () => {
        chaos.clearAll('shutting down');
        tokens.verifier.close();
        for (const u of Object.values(upstreams)) u.dispose();
        await app.close();
        await management.close();
      })();
      return closed;
    },
  };
}
