import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import { FakeUpstream, createSigner, json, readBody, startGateway, type ErrorBody, type TestGateway } from './helpers.js';

const MB = 1024 * 1024;
const LIMIT = 10 * MB;
const DRAIN_MAX = 2 * LIMIT;

interface Outcome {
  status: number;
  body: string;
  /** Bytes the client managed to write before the response ended or the connection failed. */
  sent: number;
  error?: string;
}

/**
 * Sends `total` bytes with node:http, chunked or with a Content-Length, and keeps writing while the
 * server reads: the way an ordinary client uploads a file without waiting for an early answer.
 */
function upload(url: string, token: string, total: number, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = 0;
    let error: string | undefined;
    let response: { status: number; body: string } | undefined;
    let writing = true;
    const settle = () => {
      if (!writing && (response || error)) resolve({ status: response?.status ?? -1, body: response?.body ?? '', sent, ...(error ? { error } : {}) });
    };
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' };
    if (chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(total);
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        response = { status: res.statusCode ?? 0, body };
        settle();
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? err.message;
      writing = false;
      settle();
    });
    req.on('finish', () => {
      writing = false;
      settle();
    });
    const piece = Buffer.alloc(64 * 1024, 7);
    // Keeps writing after an early answer, as curl and browsers do: the server must read or close.
    const pump = () => {
      while (sent < total && writing) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (writing) req.end();
    };
    pump();
  });
}

describe('oversize uploads through the gateway (issue 15, item 9)', { timeout: 120_000 }, () => {
  let images: FakeUpstream;
  let auth: FakeUpstream;
  let gateway: TestGateway;
  let token: string;

  before(async () => {
    const signer = await createSigner();
    auth = new FakeUpstream((req, res) => json(res, 200, signer.jwks));
    images = new FakeUpstream(async (req, res, recorded) => {
      await readBody(req);
      json(res, 201, { received: recorded.bodyBytes });
    });
    await auth.start();
    await images.start();
    gateway = await startGateway({
      AUTH_URL: auth.url,
      IMAGES_URL: images.url,
      UPLOAD_LIMIT_BYTES: String(LIMIT),
      OVERSIZE_DRAIN_MAX_BYTES: String(DRAIN_MAX),
      OVERSIZE_DRAIN_TIMEOUT_MS: '60000',
    });
    await waitFor(async () => (await gateway.management.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready' });
    token = await signer.sign();
  });

  after(async () => {
    await gateway.close();
    await auth.stop();
    await images.stop();
  });

  for (const chunked of [false, true]) {
    it(`answers an 11 MB upload (${chunked ? 'chunked' : 'with Content-Length'}) sent by node:http with the 413 and its JSON error`, async () => {
      const outcome = await upload(`${gateway.url}/api/images`, token, 11 * MB, chunked);
      assert.equal(outcome.error, undefined, `the client saw ${outcome.error} instead of the 413`);
      assert.equal(outcome.status, 413);
      assert.equal((JSON.parse(outcome.body) as ErrorBody).error.code, 'GATEWAY_PAYLOAD_TOO_LARGE');
      assert.equal(outcome.sent, 11 * MB, 'the whole upload was read');
    });
  }

  it('answers an 11 MB upload sent by fetch (undici) with the 413 and its JSON error', async () => {
    const res = await fetch(`${gateway.url}/api/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(11 * MB, 7),
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('connection'), 'close');
    assert.equal(((await res.json()) as ErrorBody).error.code, 'GATEWAY_PAYLOAD_TOO_LARGE');
  });

  it('answers a chunked 11 MB upload sent by fetch (a stream body) with the 413', async () => {
    let left = 11 * MB;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left <= 0) return controller.close();
        const piece = new Uint8Array(Math.min(64 * 1024, left));
        left -= piece.length;
        controller.enqueue(piece);
      },
    });
    const res = await fetch(`${gateway.url}/api/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'GATEWAY_PAYLOAD_TOO_LARGE');
  });

  for (const chunked of [false, true]) {
    it(`closes the connection of a client that keeps sending past the drain bound (${chunked ? 'chunked' : 'Content-Length'})`, async () => {
      const total = 8 * DRAIN_MAX;
      const outcome = await upload(`${gateway.url}/api/images`, token, total, chunked);
      // The gateway stops reading at the bound: the client could not write everything, whatever it then saw.
      assert.ok(outcome.sent < total, `the client wrote all ${total} bytes`);
      assert.ok(outcome.sent <= DRAIN_MAX + LIMIT + 8 * MB, `the gateway read ${outcome.sent} bytes, past its bound`);
    });
  }
});
