import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The kernel's range for outgoing connections' source ports (Linux default 32768–60999). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return [low, high];
  } catch {
    // not Linux: fall through to the IANA dynamic range
  }
  return [49152, 65535];
}

/** Tries to listen on `host:port` and closes at once. Rejects with the listen error. */
export async function tryListen(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/**
 * Where freePort looks: up to 12,000 ports just below the ephemeral range (and below Linux's default
 * 32768 when the range starts higher), or undefined when fewer than 1,000 unprivileged ports are there.
 */
export function portsBelow(ephemeralLow: number): [number, number] | undefined {
  const high = Math.min(ephemeralLow - 1, 32767);
  const low = Math.max(1024, high - 12_000);
  return high - low < 1000 ? undefined : [low, high];
}

const handedOut = new Set<number>();

async function kernelsChoice(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A free port on `host` for a server started later (a child process, a restart on the same port).
 * Chosen BELOW the kernel's ephemeral range on purpose: a port `listen(0)` hands out is also a
 * source port for outgoing connections, and on a busy machine one of those can take it in the
 * seconds between this choice and the bind (the launcher's issue 15 item 10; the drills' platform,
 * which binds its trace receiver half a minute after choosing). Outside that range only another
 * listener can take it. Never the same port twice in one process.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const range = portsBelow(ephemeralRange()[0]);
  // An ephemeral range reaching down to the privileged ports leaves nothing below it: the kernel's choice.
  if (!range) return kernelsChoice(host);
  const [low, high] = range;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    try {
      await tryListen(host, port);
      handedOut.add(port);
      return port;
    } catch {
      // in use: try another
    }
  }
  throw new Error(`no free port found between ${low} and ${high} after 200 attempts`);
}

/** Polls `probe` until it returns true or `timeoutMs` passes. Bounded in time by construction. */
export async function waitFor(probe: () => Promise<boolean> | boolean, { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
