/** An instance as the endpoints see it: where it serves, where it answers /readyz, and its process. */
export interface EndpointInstance {
  label: string;
  port: number;
  managementPort: number;
  process: { readonly running: boolean; readonly terminating: boolean; readonly pid: number | undefined };
}

export interface ReadinessEndpointsOptions {
  /** How often each instance's /readyz is asked (periodSeconds; the manifests say 5 s, one machine affords less). */
  intervalMs?: number;
  /** A probe slower than this counts as failed (timeoutSeconds: 3 s, as in the manifests, so a busy instance is not dropped sooner than in a cluster). */
  timeoutMs?: number;
  /** Failed probes in a row that take a ready instance out (failureThreshold). */
  failureThreshold?: number;
}

interface ProbeState {
  pid: number | undefined;
  ready: boolean;
  failures: number;
}

/**
 * Which instances of a service take new connections, as the endpoints of a Kubernetes Service: an
 * instance joins once its /readyz answers 200, leaves after `failureThreshold` failed probes in a row,
 * and leaves at once when it is told to stop (terminating) or its process is replaced (a new pid
 * starts out not ready).
 *
 * Without this the local balancer sent connections to any instance that accepted them, so a
 * restarted Images instance under load could answer 503 (IMAGES_DB_UNAVAILABLE,
 * IMAGES_STORAGE_UNAVAILABLE) before its dependency checks had passed, which a Service would not
 * allow (the likely cause of one such 503 in the drills' rolling restart, CI run 18, 30 Nov 2026).
 *
 * When no instance is ready, every running one not terminating is used ("fail open", as Envoy's
 * panic threshold): on one machine a service whose instances all fail readiness (its database is
 * down) then answers with its own 503 and error code, where a cluster's gateway would see no
 * endpoints at all.
 */
export class ReadinessEndpoints {
  readonly #instances: () => readonly EndpointInstance[];
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #failureThreshold: number;
  readonly #states = new Map<string, ProbeState>();
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(instances: () => readonly EndpointInstance[], options: ReadinessEndpointsOptions = {}) {
    this.#instances = instances;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#failureThreshold = options.failureThreshold ?? 2;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.probeOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The ports new connections may go to, in instance order. */
  ports(): number[] {
    const running = this.#instances().filter((i) => i.process.running && !i.process.terminating);
    const ready = running.filter((i) => this.#current(i).ready);
    return (ready.length > 0 ? ready : running).map((i) => i.port);
  }

  /** Whether `label` is ready by its probes (and running, not terminating). */
  isReady(label: string): boolean {
    const instance = this.#instances().find((i) => i.label === label);
    return instance !== undefined && instance.process.running && !instance.process.terminating && this.#current(instance).ready;
  }

  /** One round of probes (the timer's work; tests call it directly). A round still running is not doubled. */
  async probeOnce(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      await Promise.all(this.#instances().map((i) => this.#probe(i)));
    } finally {
      this.#probing = false;
    }
  }

  /** The instance's state, reset when its process is not the one last probed. */
  #current(instance: EndpointInstance): ProbeState {
    const state = this.#states.get(instance.label);
    if (state && state.pid === instance.process.pid) return state;
    const fresh: ProbeState = { pid: instance.process.pid, ready: false, failures: 0 };
    this.#states.set(instance.label, fresh);
    return fresh;
  }

  async #probe(instance: EndpointInstance): Promise<void> {
    if (!instance.process.running) return;
    const pid = instance.process.pid;
    let ok = false;
    try {
      const res = await fetch(`http://127.0.0.1:${instance.managementPort}/readyz`, { signal: AbortSignal.timeout(this.#timeoutMs) });
      await res.arrayBuffer();
      ok = res.ok;
    } catch {
      // refused, reset or too slow: a failed probe
    }
    // A process replaced while the probe ran: the answer was about the old one.
    if (instance.process.pid !== pid) return;
    const state = this.#current(instance);
    if (ok) {
      state.ready = true;
      state.failures = 0;
    } else if (++state.failures >= this.#failureThreshold || !state.ready) {
      state.ready = false;
    }
  }
}
