import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ReadinessEndpoints, type EndpointInstance } from '../src/endpoints.js';

/** An instance whose /readyz answers what the test says, on a real loopback port. */
interface FakeInstance extends EndpointInstance {
  process: { running: boolean; terminating: boolean; pid: number | undefined };
  readyz: { status: number; delayMs: number };
  server: Server;
}

async function fakeInstance(label: string, port: number, pid: number): Promise<FakeInstance> {
  const readyz = { status: 503, delayMs: 0 };
  const server = createServer((_req, res) => {
    setTimeout(() => res.writeHead(readyz.status).end(), readyz.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { label, port, managementPort: (server.address() as AddressInfo).port, process: { running: true, terminating: false, pid }, readyz, server };
}

describe('readiness endpoints (the local balancer as a Kubernetes Service)', () => {
  let a: FakeInstance;
  let b: FakeInstance;
  let endpoints: ReadinessEndpoints;

  before(async () => {
    a = await fakeInstance('images#1', 1001, 11);
    b = await fakeInstance('images#2', 1002, 12);
    endpoints = new ReadinessEndpoints(() => [a, b], { timeoutMs: 300, failureThreshold: 2 });
  });
  after(async () => {
    for (const i of [a, b]) await new Promise((r) => i.server.close(r));
  });

  it('fails open to every running instance while none is ready', async () => {
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002]);
    assert.equal(endpoints.isReady('images#1'), false);
  });

  it('takes only the ready instances once one answers /readyz with 200', async () => {
    a.readyz.status = 200;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001]);
    b.readyz.status = 200;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002]);
  });

  it('drops a ready instance after two failed probes in a row, not after one', async () => {
    b.readyz.status = 503;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002], 'one failed probe is not enough');
    b.readyz.status = 200;
    await endpoints.probeOnce();
    b.readyz.status = 503;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002], 'the count restarts after a success');
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001]);
    b.readyz.status = 200;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002]);
  });

  it('counts a probe slower than the timeout as failed', async () => {
    b.readyz.delayMs = 1000;
    await endpoints.probeOnce();
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001]);
    b.readyz.delayMs = 0;
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002]);
  });

  it('drops a terminating instance at once, and a stopped one', async () => {
    a.process.terminating = true;
    assert.deepEqual(endpoints.ports(), [1002]);
    a.process.running = false;
    a.process.terminating = false;
    a.process.pid = undefined;
    assert.deepEqual(endpoints.ports(), [1002]);
  });

  it('a replaced process (new pid) starts out not ready, even while the old one last answered 200', async () => {
    a.process.running = true;
    a.process.pid = 21;
    assert.deepEqual(endpoints.ports(), [1002], 'the new process is not in before its first probe');
    await endpoints.probeOnce();
    assert.deepEqual(endpoints.ports(), [1001, 1002]);
  });

  it('discards a probe answer that arrives after its process was replaced', async () => {
    a.readyz.delayMs = 150;
    const probing = endpoints.probeOnce();
    await new Promise((r) => setTimeout(r, 50));
    a.process.pid = 31;
    a.readyz.status = 200;
    await probing;
    assert.equal(endpoints.isReady('images#1'), false, 'the 200 was about pid 21');
    a.readyz.delayMs = 0;
    await endpoints.probeOnce();
    assert.equal(endpoints.isReady('images#1'), true);
  });

  it('has no endpoints when every instance is terminating', () => {
    a.process.terminating = true;
    b.process.terminating = true;
    assert.deepEqual(endpoints.ports(), []);
    a.process.terminating = false;
    b.process.terminating = false;
  });
});
