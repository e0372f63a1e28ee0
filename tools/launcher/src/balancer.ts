import { connect, createServer, type Server, type Socket } from 'node:net';
import { relaySourceAddress } from './loopback.js';

/**
 * A small TCP round-robin in front of several instances of one service, standing in for a
 * Kubernetes Service. Each new connection goes to the next of `backends()` (the ready instances,
 * endpoints.ts); one that refuses the connection (crashed between two probes) is skipped, so
 * drills can kill an instance and watch the platform keep serving. A loopback client's source
 * address is kept (as kube-proxy keeps a pod's), so a service behind it can still tell the gateway
 * (127.0.0.3) from other local clients.
 */
export class RoundRobinBalancer {
  #server: Server | undefined;
  #next = 0;
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly backends: () => readonly number[],
  ) {}

  async listen(): Promise<void> {
    const server = createServer((client) => this.#route(client, 0));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.#server = server;
  }

  #route(client: Socket, tried: number): void {
    const ports = this.backends();
    if (tried >= ports.length || ports.length === 0) {
      client.destroy();
      return;
    }
    const port = ports[this.#next++ % ports.length]!;
    const localAddress = relaySourceAddress(client.remoteAddress);
    const upstream = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (!connected) this.#route(client, tried + 1);
      else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      this.#sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => {
      this.#sockets.delete(client);
      upstream.destroy();
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
