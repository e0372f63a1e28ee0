import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { freePort, waitFor } from '@sre/testkit';
import { signingKey } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Sends the request head and part of the body, and resolves with the raw response once it arrives. */
function partialRequest(port: number, path: string, body: string, sentBytes: number): { socket: Socket; finish: () => void; response: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let raw = '';
  const response = new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    socket.on('end', () => resolve(raw));
    socket.on('close', () => resolve(raw));
    socket.on('error', reject);
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
  socket.write(body.slice(0, sentBytes));
  return { socket, response, finish: () => socket.write(body.slice(sentBytes)) };
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('auth main.ts shutdown (real process, SIGTERM)', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('fails readiness at once, finishes in-flight requests, stops accepting, exits 0, and a second SIGTERM is harmless', async () => {
    const [port, managementPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/auth/src/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        JWT_PRIVATE_KEY: signingKey.privateKeyPem,
        HOST: '127.0.0.1',
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        // Long enough for the burst below to reach the server on a busy machine: a request that arrives
        // after the listener closed is rightly refused with 503, and would not be "in flight".
        DRAIN_DELAY_MS: '5000',
        READINESS_CACHE_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const ready = async () => (await fetch(`http://127.0.0.1:${managementPort}/readyz`)).status;
    await waitFor(async () => (await ready()) === 200, { timeoutMs: 60_000, what: 'auth ready' });

    const email = 'drain@example.com';
    const credentials = JSON.stringify({ email, password: 'correct horse battery' });
    assert.equal((await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: credentials })).status, 201);

    // In flight when SIGTERM arrives: a registration whose body is only half sent, and a burst of
    // logins (production argon2 cost, so they take real time).
    const slow = partialRequest(port, '/register', JSON.stringify({ email: 'inflight@example.com', password: 'correct horse battery' }), 20);
    const logins = Array.from({ length: 8 }, () =>
      fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: credentials }),
    );
    child.kill('SIGTERM');

    await waitFor(async () => (await ready()) === 503, { timeoutMs: 10_000, intervalMs: 20, what: '/readyz 503 while draining' });
    const draining = (await (await fetch(`http://127.0.0.1:${managementPort}/readyz`)).json()) as { status: string };
    assert.equal(draining.status, 'draining');
    child.kill('SIGTERM'); // the second signal must not start a second shutdown or change the exit code

    const loginStatuses = await Promise.all(logins.map(async (r) => (await r).status));
    assert.deepEqual(loginStatuses, Array(8).fill(200), 'requests in flight at SIGTERM complete');

    // After the drain delay the listener closes: new connections are refused while our
    // half-sent request is still open...
    await waitFor(async () => !(await canConnect(port)), { timeoutMs: 15_000, intervalMs: 50, what: 'public listener closed' });
    assert.equal(child.exitCode, null, 'the process waits for the in-flight request');
    // ...and it is still answered once its body arrives.
    slow.finish();
    const raw = await slow.response;
    assert.match(raw, /^HTTP\/1\.1 201 /, raw);
    assert.match(raw, /connection: close/i);

    const code = await exited;
    assert.equal(code, 0, output);
    assert.equal(output.match(/"msg":"shutdown started; readiness now fails"/g)?.length, 1, 'one shutdown despite two signals');
    assert.match(output, /"msg":"shutdown complete"/);
  });
});
