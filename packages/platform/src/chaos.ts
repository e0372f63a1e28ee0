import { Worker } from 'node:worker_threads';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CHAOS_ADMIN_TOKEN_MIN_LENGTH, chaosConfigShape, type ChaosConfig } from './chaos-config.js';
import { CHAOS_FAULTS, chaosErrors, type ActiveFault, type ChaosController, type ChaosFault, type ChaosFaultSettings } from './chaos-contract.js';
import { chaosRoutes } from './chaos-routes.js';
import { isPlaceholder } from './config.js';
import { errorBody } from './errors.js';
import { Counter, Gauge } from './metrics.js';
import type { Platform } from './platform.js';

/**
 * Failure injection, in the manner of the OpenTelemetry demo's feature flags: a service can be
 * told, on its management port, to fail readiness, answer slowly, answer 503 for a share of
 * requests, burn CPU or grow its memory, each for a bounded time after which the fault switches
 * itself off. Off unless CHAOS_ENABLED=true; every call needs CHAOS_ADMIN_TOKEN. Drills
 * (tools/drills, docs/drills.md) drive it; in Kubernetes the opt-in component
 * k8s/components/chaos turns it on.
 */

export { chaosConfigShape, type ChaosConfig };

export interface ChaosOptions {
  config: ChaosConfig;
  /** Longest accepted duration; default one hour. */
  maxDurationMs?: number;
  /** Tests pass a seeded source; defaults to Math.random. */
  random?: () => number;
}

/** The readiness check name the readiness fault forces to fail. */
export const CHAOS_READINESS_CHECK = 'chaos';

// A busy loop in a worker thread: real CPU load (what drives an HPA) without freezing the event loop
// that serves requests and probes. The worker stops itself at `until` even if the parent is stuck.
const CPU_WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
let x = 0;
while (Date.now() < workerData.until) { for (let i = 0; i < 1e6; i++) x = (x + i * 7) % 1000003; }
`;

interface Running {
  fault: ActiveFault;
  timer: NodeJS.Timeout;
  stop: () => void;
}

/**
 * Creates the chaos controller and, when enabled, mounts its routes on the management app and its
 * request hook on the public app. Call once in buildApp, before the apps are ready:
 * `installChaos(platform, app, management, { config })`. When disabled it registers nothing, so
 * every /chaos path is a plain 404.
 */
export function installChaos(platform: Platform, app: FastifyInstance, management: FastifyInstance, options: ChaosOptions): ChaosController {
  const enabled = options.config.CHAOS_ENABLED;
  const token = options.config.CHAOS_ADMIN_TOKEN;
  if (enabled && (token === undefined || token.length < CHAOS_ADMIN_TOKEN_MIN_LENGTH)) {
    throw new Error(`CHAOS_ENABLED=true requires CHAOS_ADMIN_TOKEN of at least ${CHAOS_ADMIN_TOKEN_MIN_LENGTH} characters`);
  }
  // buildApp may be handed a config that did not come through the schema (tests, embedders).
  if (enabled && token !== undefined && isPlaceholder(token)) {
    throw new Error('CHAOS_ADMIN_TOKEN is a placeholder value; generate a real secret (see docs/deploy.md)');
  }
  const maxDurationMs = options.maxDurationMs ?? 3_600_000;
  const random = options.random ?? Math.random;
  const log = platform.logger.child({ component: 'chaos' });
  const registry = platform.metrics.registry;

  const activeGauge =
    (registry.getSingleMetric('chaos_fault_active') as Gauge<'fault'> | undefined) ??
    new Gauge({ name: 'chaos_fault_active', help: 'Injected faults switched on: 1 on, 0 off.', labelNames: ['fault'], registers: [registry] });
  const togglesTotal =
    (registry.getSingleMetric('chaos_fault_toggles_total') as Counter<'fault' | 'action'> | undefined) ??
    new Counter({
      name: 'chaos_fault_toggles_total',
      help: 'Fault injection switches, by fault and action (on, off, expired).',
      labelNames: ['fault', 'action'],
      registers: [registry],
    });
  const injectedTotal =
    (registry.getSingleMetric('chaos_injected_requests_total') as Counter<'fault'> | undefined) ??
    new Counter({
      name: 'chaos_injected_requests_total',
      help: 'Public requests delayed or failed on purpose, by fault.',
      labelNames: ['fault'],
      registers: [registry],
    });
  const enabledGauge =
    (registry.getSingleMetric('chaos_enabled') as Gauge | undefined) ??
    new Gauge({ name: 'chaos_enabled', help: '1 when fault injection can be switched on (CHAOS_ENABLED=true).', registers: [registry] });
  enabledGauge.set(enabled ? 1 : 0);
  for (const f of CHAOS_FAULTS) activeGauge.set({ fault: f }, 0);

  const running = new Map<ChaosFault, Running>();

  const start = (fault: ChaosFault, settings: ChaosFaultSettings): (() => void) => {
    switch (fault) {
      case 'readiness':
        platform.health.setOverride(CHAOS_READINESS_CHECK, 'readiness failure injected (chaos)');
        // Also on the gauge at once: it is otherwise refreshed only when a probe asks for readiness.
        platform.metrics.healthCheckStatus.set({ check: CHAOS_READINESS_CHECK }, 0);
        return () => {
          platform.health.setOverride(CHAOS_READINESS_CHECK, undefined);
          platform.metrics.healthCheckStatus.set({ check: CHAOS_READINESS_CHECK }, 1);
        };
      case 'cpu': {
        const until = Date.now() + settings.durationMs;
        const workers = Array.from({ length: settings.workers ?? 1 }, () => {
          const w = new Worker(CPU_WORKER_SOURCE, { eval: true, workerData: { until } });
          w.unref();
          w.on('error', (err) => log.error({ err }, 'cpu burn worker failed'));
          return w;
        });
        return () => {
          for (const w of workers) void w.terminate();
        };
      }
      case 'memory': {
        // Filled buffers so the pages are really committed (RSS grows, not only virtual size).
        const chunks: Buffer[] = [];
        const maxMb = settings.maxMb ?? 256;
        const perTick = Math.max(1, Math.round((settings.mbPerSecond ?? 16) / 4));
        const grow = setInterval(() => {
          for (let i = 0; i < perTick && chunks.length < maxMb; i++) chunks.push(Buffer.alloc(1024 * 1024, 1));
        }, 250);
        grow.unref();
        return () => {
          clearInterval(grow);
          chunks.length = 0;
        };
      }
      case 'latency':
      case 'errors':
        // Applied per request by the onRequest hook below.
        return () => undefined;
    }
  };

  const controller: ChaosController = {
    enabled,
    active: () => [...running.values()].map((r) => r.fault),
    set(fault, settings, by = 'api') {
      if (!enabled) throw new Error('fault injection is disabled (CHAOS_ENABLED is not true)');
      const previous = running.get(fault);
      if (previous) {
        clearTimeout(previous.timer);
        previous.stop();
      }
      const now = Date.now();
      const active: ActiveFault = { fault, settings, since: new Date(now).toISOString(), until: new Date(now + settings.durationMs).toISOString() };
      const stop = start(fault, settings);
      const timer = setTimeout(() => {
        if (running.get(fault)?.timer === timer) off(fault, 'expired', 'duration elapsed');
      }, settings.durationMs);
      timer.unref();
      running.set(fault, { fault: active, timer, stop });
      activeGauge.set({ fault }, 1);
      togglesTotal.inc({ fault, action: 'on' });
      log.warn({ fault, settings, by, until: active.until }, 'chaos fault switched on');
      return active;
    },
    clear: (fault, reason = 'cleared') => off(fault, 'off', reason),
    clearAll(reason = 'cleared') {
      for (const fault of [...running.keys()]) off(fault, 'off', reason);
    },
  };

  function off(fault: ChaosFault, action: 'off' | 'expired', reason: string): boolean {
    const r = running.get(fault);
    if (!r) return false;
    running.delete(fault);
    clearTimeout(r.timer);
    r.stop();
    activeGauge.set({ fault }, 0);
    togglesTotal.inc({ fault, action });
    log.warn({ fault, action, reason }, 'chaos fault switched off');
    return true;
  }

  if (!enabled) return controller;

  const affects = (fault: 'latency' | 'errors', request: FastifyRequest): ChaosFaultSettings | undefined => {
    const r = running.get(fault);
    if (!r) return undefined;
    const { share = 1, pathPrefix } = r.fault.settings;
    if (pathPrefix !== undefined && !(request.raw.url ?? '').startsWith(pathPrefix)) return undefined;
    return random() < share ? r.fault.settings : undefined;
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (running.size === 0) return undefined;
    const latency = affects('latency', request);
    if (latency?.latencyMs) {
      injectedTotal.inc({ fault: 'latency' });
      await new Promise((resolve) => setTimeout(resolve, latency.latencyMs));
    }
    if (affects('errors', request)) {
      injectedTotal.inc({ fault: 'errors' });
      const e = chaosErrors.CHAOS_INJECTED_FAULT();
      return reply.code(e.statusCode).send(errorBody(e.code, e.message, request.id));
    }
    return undefined;
  });

  void management.register(chaosRoutes({ controller, service: platform.service, token: token as string, maxDurationMs, log }));

  return controller;
}
