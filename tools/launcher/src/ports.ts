import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Tries to listen on `host:port` and closes at once. Rejects with the listen error. */
async function tryListen(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** Fails fast with a clear message instead of letting a service crash-loop on EADDRINUSE. */
export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  try {
    await tryListen(host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${port} (${what}) is in use: is another \`npm start\` running? Choose other ports with --port / --management-port`
        : `cannot listen on ${host}:${port} (${what}): ${(err as Error).message}`,
    );
  }
}

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

const taken = new Set<number>();

/**
 * A free loopback port for a child process to bind later (`--port 0`, tests). Chosen BELOW the
 * ephemeral range on purpose: a port the kernel hands out for `listen(0)` is also a source port for
 * outgoing connections, and on a busy machine one of those can take it in the seconds between our
 * choice and the service's bind (issue 15 item 10). Ports outside that range can only be taken by
 * another listener. Never the same port twice in one launcher.
 */
export async function pickFreePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const high = Math.min(ephemeralLow - 1, 32767);
  const low = Math.max(1024, high - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (taken.has(port)) continue;
    try {
      await tryListen('127.0.0.1', port);
      taken.add(port);
      return port;
    } catch {
      // in use: try another
    }
  }
  throw new Error(`no free port found between ${low} and ${high} after 200 attempts`);
}
