import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requireTool } from '@sre/testkit';
import type { ImagesApp } from '../src/app.js';
import { buildTestApp, startTokenIssuer, tempDir, type TokenIssuer } from './helpers.js';

const curl = requireTool('curl', 'apt-get install curl');
const ELEVEN_MB = 11 * 1024 * 1024;

/**
 * Issue 15, item 9: a client that sends a whole oversize upload must read the 413 and its message,
 * not a broken pipe, whether the length is declared (refused before reading) or found while reading a
 * chunked body.
 */
describe('an oversize upload sent in full gets the 413 and its message', () => {
  let images: ImagesApp;
  let issuer: TokenIssuer;
  let dir: ReturnType<typeof tempDir>;
  let url: string;
  let bearer: string;
  const big = Buffer.alloc(ELEVEN_MB, 0x42);

  before(async () => {
    issuer = await startTokenIssuer();
    dir = tempDir('oversize');
    images = await buildTestApp({ STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: dir.path, AUTH_JWKS_URL: issuer.jwksUrl });
    bearer = `Bearer ${await issuer.token('7b0d3c4e-6a57-4f5b-9a7e-3c2d1e0f9a8b')}`;
    url = `${await images.app.listen({ host: '127.0.0.1', port: 0 })}/`;
  });
  after(async () => {
    await images.close();
    await issuer.close();
    dir.remove();
  });

  it("with Node's fetch (undici), streaming the body so the length is not declared", async () => {
    const form = new FormData();
    form.append('file', new Blob([big], { type: 'image/png' }), 'huge.png');
    const res = await fetch(url, { method: 'POST', headers: { authorization: bearer }, body: form });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'IMAGES_TOO_LARGE');
  });

  it('with curl -F (declared Content-Length over the limit, answered before the body is read)', { skip: curl.skip }, async () => {
    const file = join(dir.path, 'huge.png');
    writeFileSync(file, big);
    // -H 'Expect:' keeps curl from waiting for 100-continue; we want the body sent at once, as the report did.
    // --limit-rate: a client on a real network is still sending when the early answer comes.
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '--max-time',
      '60',
      '--limit-rate',
      '4M',
      '-H',
      'Expect:',
      '-H',
      `authorization: ${bearer}`,
      '-F',
      `file=@${file};type=image/png`,
      '-w',
      '\n%{http_code}',
      url,
    ]);
    const [json, status] = stdout.trimEnd().split('\n');
    assert.equal(status, '413', stdout);
    assert.equal((JSON.parse(json!) as { error: { code: string } }).error.code, 'IMAGES_TOO_LARGE');
  });

  it('with curl -F sending chunked at a network-like rate (the limit is found while reading)', { skip: curl.skip }, async () => {
    const file = join(dir.path, 'huge-chunked.png');
    writeFileSync(file, big);
    const args = [
      '-sS',
      '--max-time',
      '60',
      '--limit-rate',
      '4M',
      '-H',
      'Expect:',
      '-H',
      'Transfer-Encoding: chunked',
      '-H',
      `authorization: ${bearer}`,
      '-F',
      `file=@${file};type=image/png`,
      '-w',
      '\n%{http_code}',
      url,
    ];
    const { stdout } = await promisify(execFile)('curl', args);
    const [json, status] = stdout.trimEnd().split('\n');
    assert.equal(status, '413', stdout);
    assert.equal((JSON.parse(json!) as { error: { code: string } }).error.code, 'IMAGES_TOO_LARGE');
  });

  it('with node:http sending chunked (no declared length), writing as the server reads', async () => {
    const boundary = 'x-boundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="huge.png"\r\ncontent-type: image/png\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const outcome = await new Promise<string>((resolve) => {
      let writing = true;
      let answer: string | undefined;
      const settle = () => {
        if (!writing && answer) resolve(answer);
      };
      const headers = { authorization: bearer, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' };
      const req = request(url, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          answer = `${res.statusCode} ${text}`;
          settle();
        });
      });
      req.on('error', (err) => {
        writing = false;
        answer ??= `error ${err.message}`;
        settle();
      });
      req.on('finish', () => {
        writing = false;
        settle();
      });
      req.write(head);
      let sent = 0;
      const piece = big.subarray(0, 64 * 1024);
      const pump = () => {
        while (sent < big.length && writing) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        if (writing) req.end(tail);
      };
      pump();
    });
    assert.match(outcome, /^413 .*IMAGES_TOO_LARGE/);
  });

  it('with node:http, which writes the whole body before it reads the answer', async () => {
    const boundary = 'x-boundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="huge.png"\r\ncontent-type: image/png\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const payload = Buffer.concat([head, big, tail]);
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        url,
        { method: 'POST', headers: { authorization: bearer, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': payload.length } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        },
      );
      req.on('error', (err) => resolve(`error ${err.message}`));
      req.end(payload);
    });
    assert.match(outcome, /^413 .*IMAGES_TOO_LARGE/);
  });
});
