import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { suiteFixture, waitFor } from '@sre/testkit';
import { registerAndLogin, startPlatform, type RunningPlatform } from './helpers.js';

/**
 * `--instances images=2` end to end: the round-robin in front of the two Images processes sends new
 * connections only to ready instances, as a Kubernetes Service's endpoints (src/endpoints.ts).
 */

const chaosToken = randomBytes(16).toString('hex');

/** Requests an instance has answered on its public port, from its own /metrics. */
async function requestsServed(managementPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_requests_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function readinessFault(managementPort: number, on: boolean): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${managementPort}/chaos/faults/readiness`, {
    method: on ? 'PUT' : 'DELETE',
    headers: { 'x-chaos-token': chaosToken, ...(on ? { 'content-type': 'application/json' } : {}) },
    ...(on ? { body: JSON.stringify({ durationMs: 120_000 }) } : {}),
  });
  assert.ok(res.ok, `${on ? 'PUT' : 'DELETE'} readiness fault → ${res.status} ${await res.text()}`);
}

describe('--instances: the round-robin uses only ready instances', () => {
  // startPlatform's error carries the launcher's output.
  const platform = suiteFixture<RunningPlatform>('the platform with two Images instances', () =>
    startPlatform({ instances: { images: 2 }, env: { CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: chaosToken } }),
  );
  before(platform.start);
  after(async () => {
    await platform.value?.stop();
  });

  it('an instance failing readiness gets no new connections, and gets them again once it is ready', async () => {
    const { launcher } = platform.get();
    const [first, second] = launcher.instances('images');
    assert.ok(first && second);
    const user = await registerAndLogin(platform.get().url);
    const imagesUrl = launcher.state.services.images.url;
    // Straight to the round-robin, a new connection per request (the gateway's pooled connections
    // stay where they are, as established connections to a pod that turns unready do).
    const listThroughBalancer = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${imagesUrl}/`, { headers: { authorization: `Bearer ${user.accessToken}`, connection: 'close' } });
        await res.arrayBuffer();
        assert.equal(res.status, 200, `request ${i}`);
      }
    };
    await waitFor(() => launcher.inRotation('images').length === 2, { what: 'both instances in rotation' });

    await readinessFault(second.managementPort, true);
    await waitFor(() => launcher.inRotation('images').join() === first.label, { what: `${second.label} out of rotation`, timeoutMs: 10_000 });
    const [firstBefore, secondBefore] = [await requestsServed(first.managementPort), await requestsServed(second.managementPort)];
    await listThroughBalancer(10);
    assert.equal(await requestsServed(second.managementPort), secondBefore, `${second.label} answered while not ready`);
    assert.equal(await requestsServed(first.managementPort), firstBefore + 10);

    await readinessFault(second.managementPort, false);
    await waitFor(() => launcher.inRotation('images').length === 2, { what: `${second.label} back in rotation`, timeoutMs: 10_000 });
    const secondReady = await requestsServed(second.managementPort);
    await listThroughBalancer(10);
    assert.ok((await requestsServed(second.managementPort)) >= secondReady + 4, 'round robin over both again');
  });

  it('a restarted instance joins only once its /readyz answers 200', async () => {
    const { launcher } = platform.get();
    const [first, second] = launcher.instances('images');
    assert.ok(first && second);
    await second.process.stop();
    assert.deepEqual(launcher.inRotation('images'), [first.label], 'out at once when stopped');
    second.process.start();
    // Its new process is running before it is ready: not in rotation until its first 200.
    await waitFor(() => second.process.running, { what: 'the new process' });
    // Once in rotation, the endpoints have seen a 200 from this process, and nothing makes it unready
    // again: a probe that starts while it is in rotation must answer 200.
    let sawUnreadyInRotation = false;
    const watch = setInterval(() => {
      const inRotation = launcher.inRotation('images').includes(second.label);
      void fetch(`http://127.0.0.1:${second.managementPort}/readyz`)
        .then((r) => r.status)
        .catch(() => 0)
        .then((status) => {
          if (inRotation && status !== 200) sawUnreadyInRotation = true;
        });
    }, 20);
    try {
      const readyz = `http://127.0.0.1:${second.managementPort}/readyz`;
      await waitFor(async () => (await fetch(readyz)).status === 200, { what: `${second.label} ready`, timeoutMs: 60_000 });
      await waitFor(() => launcher.inRotation('images').length === 2, { what: `${second.label} back in rotation`, timeoutMs: 10_000 });
    } finally {
      clearInterval(watch);
    }
    assert.equal(sawUnreadyInRotation, false, `${second.label} was in rotation while its /readyz did not answer 200`);
  });
});
