import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, portsBelow, tryListen } from '../src/net.js';

describe('freePort', () => {
  it('hands out distinct, bindable ports below the kernel ephemeral range', async () => {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length, `a port twice: ${ports.join(' ')}`);
    for (const port of ports) {
      assert.ok(port >= 1024 && port < Math.min(ephemeralLow ?? 32768, 32768), `${port} is outside [1024, ${ephemeralLow})`);
      await tryListen('127.0.0.1', port);
    }
  });

  it('never hands out a port another listener holds', async () => {
    const servers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(20_000 + i * 60, '127.0.0.1', resolve).once('error', () => resolve()));
        return server;
      }),
    );
    try {
      const held = new Set(servers.filter((s) => s.listening).map((s) => (s.address() as { port: number }).port));
      for (let i = 0; i < 50; i++) assert.ok(!held.has(await freePort()));
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
    }
  });

  it('looks just below the ephemeral range, and leaves the choice to the kernel when nothing is there', () => {
    assert.deepEqual(portsBelow(32768), [20767, 32767]); // Linux's default range
    assert.deepEqual(portsBelow(49152), [20767, 32767]); // the IANA range: still below 32768
    assert.deepEqual(portsBelow(10000), [1024, 9999]);
    assert.equal(portsBelow(1500), undefined);
    assert.equal(portsBelow(1024), undefined);
  });

  it('tryListen rejects with EADDRINUSE for a held port', async () => {
    const server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(tryListen('127.0.0.1', port), { code: 'EADDRINUSE' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
