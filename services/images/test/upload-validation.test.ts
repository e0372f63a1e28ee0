import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import type { ImagesApp } from '../src/app.js';
import * as fixtures from './fixtures/generate.js';
import { allKeys, buildTestApp, fileUpload, multipart, startTokenIssuer, tempDir, type ErrorResponse, type TokenIssuer } from './helpers.js';

const MAX_BYTES = 2 * 1024 * 1024;
const USER = '5b0d7a52-3c0b-4f0e-9a51-0d1f2a3b4c5d';

describe('upload validation (local storage)', () => {
  let issuer: TokenIssuer;
  let images: ImagesApp;
  let storageDir: ReturnType<typeof tempDir>;
  let auth: string;

  before(async () => {
    issuer = await startTokenIssuer();
    storageDir = tempDir('validation');
    images = await buildTestApp({
      AUTH_JWKS_URL: issuer.jwksUrl,
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: storageDir.path,
      UPLOAD_MAX_BYTES: String(MAX_BYTES),
    });
    auth = `Bearer ${await issuer.token(USER)}`;
  });
  after(async () => {
    await images.close();
    await issuer.close();
    storageDir.remove();
  });

  const upload = async (body: { body: Buffer; contentType: string }) =>
    images.app.inject({ method: 'POST', url: '/', payload: body.body, headers: { authorization: auth, 'content-type': body.contentType } });

  const accepted: Array<[string, () => Promise<Buffer>, string, [number, number]]> = [
    ['JPEG', () => fixtures.validImage.jpeg(640, 480), 'image/jpeg', [640, 480]],
    ['PNG', () => fixtures.validImage.png(320, 200), 'image/png', [320, 200]],
    ['WebP', () => fixtures.validImage.webp(400, 300), 'image/webp', [400, 300]],
    ['GIF', () => fixtures.validImage.gif(120, 90), 'image/gif', [120, 90]],
    ['AVIF', () => fixtures.validImage.avif(160, 120), 'image/avif', [160, 120]],
  ];
  for (const [name, make, type, [width, height]] of accepted) {
    it(`accepts a valid ${name} (type from the bytes, not the declared type) and stores a WebP thumbnail`, async () => {
      // Declared type and extension lie on purpose: only the bytes count.
      const res = await upload(fileUpload(await make(), `holiday.${name === 'JPEG' ? 'png' : 'jpg'}`, 'application/octet-stream'));
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as { id: string; contentType: string; width: number; height: number; sizeBytes: number; filename: string; createdAt: string };
      assert.equal(body.contentType, type);
      assert.deepEqual([body.width, body.height], [width, height]);
      assert.ok(body.sizeBytes > 0);
      assert.ok(!Number.isNaN(Date.parse(body.createdAt)));

      const content = await images.app.inject({ method: 'GET', url: `/${body.id}/content`, headers: { authorization: auth } });
      assert.equal(content.statusCode, 200);
      assert.equal(content.headers['content-type'], type);
      assert.equal(Number(content.headers['content-length']), body.sizeBytes);
      assert.equal(content.rawPayload.length, body.sizeBytes);
      const served = await sharp(content.rawPayload).metadata();
      assert.deepEqual([served.width, served.pageHeight ?? served.height], [width, height]);

      const thumb = await images.app.inject({ method: 'GET', url: `/${body.id}/thumbnail`, headers: { authorization: auth } });
      assert.equal(thumb.statusCode, 200);
      assert.equal(thumb.headers['content-type'], 'image/webp');
      const t = await sharp(thumb.rawPayload).metadata();
      assert.equal(t.format, 'webp');
      assert.ok(Math.max(t.width ?? 0, t.height ?? 0) <= 256);
      assert.equal(Math.max(t.width ?? 0, t.height ?? 0), Math.min(256, Math.max(width, height)));
    });
  }

  it('keeps only the EXIF orientation, strips GPS and every other tag from original and thumbnail', async () => {
    const input = await fixtures.jpegWithGpsAndOrientation();
    const inputMeta = await sharp(input).metadata();
    assert.equal(inputMeta.orientation, 6, 'fixture is stored sideways');
    assert.ok(fixtures.exifHasGps(inputMeta.exif), 'fixture carries GPS');

    const res = await upload(fileUpload(input, 'berlin.jpg'));
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as { id: string; width: number; height: number };
    assert.deepEqual([body.width, body.height], [400, 600], 'dimensions as displayed (rotated)');

    const content = await images.app.inject({ method: 'GET', url: `/${body.id}/content`, headers: { authorization: auth } });
    const original = await sharp(content.rawPayload).metadata();
    // Stripped losslessly: the pixels stay as stored (sideways) with an EXIF block holding Orientation only.
    assert.deepEqual([original.autoOrient.width, original.autoOrient.height], [400, 600]);
    assert.deepEqual(exifReader(original.exif!), { bigEndian: true, Image: { Orientation: 6 } }, 'no GPS or camera EXIF in the served original');
    assert.equal(original.xmp, undefined);
    assert.ok(!content.rawPayload.includes(Buffer.from('TestCam')));

    const thumb = await images.app.inject({ method: 'GET', url: `/${body.id}/thumbnail`, headers: { authorization: auth } });
    const t = await sharp(thumb.rawPayload).metadata();
    assert.deepEqual([t.width, t.height], [171, 256], 'thumbnail upright, longest edge 256');
    assert.equal(t.exif, undefined);
    assert.equal(t.icc, undefined);
  });

  const rejected: Array<[string, () => Promise<{ body: Buffer; contentType: string }>, number, string]> = [
    [
      'a decompression bomb (PNG header claiming 20000×20000)',
      async () => fileUpload(fixtures.pngBomb(), 'bomb.png', 'image/png'),
      422,
      'IMAGES_TOO_MANY_PIXELS',
    ],
    ['a truncated JPEG', async () => fileUpload(await fixtures.truncatedJpeg(), 'cut.jpg'), 422, 'IMAGES_INVALID_IMAGE'],
    ['a zero-byte file', async () => fileUpload(Buffer.alloc(0), 'empty.jpg'), 400, 'IMAGES_EMPTY_FILE'],
    ['a text file renamed .jpg', async () => fileUpload(fixtures.textAsJpeg(), 'notes.jpg'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['an SVG with a script', async () => fileUpload(fixtures.svgWithScript(), 'logo.png', 'image/png'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['an HTML page', async () => fileUpload(fixtures.htmlPage(), 'page.gif', 'image/gif'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['a PDF', async () => fileUpload(fixtures.pdfDocument(), 'scan.jpg'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['a GIF/JavaScript polyglot', async () => fileUpload(await fixtures.gifJsPolyglot(), 'anim.gif', 'image/gif'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['a PNG with an HTML document appended', async () => fileUpload(await fixtures.pngWithHtmlTail(), 'x.png', 'image/png'), 415, 'IMAGES_UNSUPPORTED_TYPE'],
    ['an oversized file', async () => fileUpload(fixtures.oversized(MAX_BYTES + 1), 'big.jpg'), 413, 'IMAGES_TOO_LARGE'],
    [
      'two files in one request',
      async () =>
        multipart([
          { name: 'file', filename: 'a.jpg', data: await fixtures.validImage.jpeg(64, 64) },
          { name: 'file', filename: 'b.jpg', data: await fixtures.validImage.jpeg(64, 64) },
        ]),
      400,
      'IMAGES_UNEXPECTED_PART',
    ],
    ['no file (an empty form)', async () => multipart([]), 400, 'IMAGES_FILE_MISSING'],
    ['a text field instead of a file', async () => multipart([{ name: 'file', data: 'hello' }]), 400, 'IMAGES_UNEXPECTED_PART'],
    [
      'a field before the file',
      async () =>
        multipart([
          { name: 'title', data: 'x' },
          { name: 'file', filename: 'a.jpg', data: Buffer.from('x') },
        ]),
      400,
      'IMAGES_UNEXPECTED_PART',
    ],
    [
      'a file under another part name',
      async () => multipart([{ name: 'image', filename: 'a.jpg', data: await fixtures.validImage.jpeg(64, 64) }]),
      400,
      'IMAGES_UNEXPECTED_PART',
    ],
    [
      'a multipart body cut off mid-part',
      async () => {
        const m = fileUpload(await fixtures.validImage.jpeg(64, 64));
        return { ...m, body: m.body.subarray(0, m.body.length - 60) };
      },
      400,
      'IMAGES_MALFORMED_UPLOAD',
    ],
    ['a JSON body', async () => ({ body: Buffer.from('{"file":"x"}'), contentType: 'application/json' }), 415, 'IMAGES_MULTIPART_REQUIRED'],
    ['a raw image body', async () => ({ body: Buffer.from('89504e470d0a1a0a', 'hex'), contentType: 'image/png' }), 415, 'IMAGES_MULTIPART_REQUIRED'],
  ];
  for (const [name, make, status, code] of rejected) {
    it(`answers ${status} ${code} for ${name}, stores nothing`, async () => {
      const keysBefore = await allKeys(images);
      const rowsBefore = await images.repository.countVisible();
      const res = await upload(await make());
      assert.equal(res.statusCode, status, res.body);
      const body = res.json() as ErrorResponse;
      assert.equal(body.error.code, code);
      assert.equal(body.error.requestId, res.headers['x-request-id']);
      assert.deepEqual(await allKeys(images), keysBefore);
      assert.equal(await images.repository.countVisible(), rowsBefore);
    });
  }

  it('keeps RSS bounded for the decompression bomb (no 1.2 GB decode)', async () => {
    const bomb = fileUpload(fixtures.pngBomb(), 'bomb.png', 'image/png');
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await upload(bomb);
        assert.equal(res.statusCode, 422);
      }
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(peak - before < 150 * 1024 * 1024, `RSS grew by ${Math.round((peak - before) / 1048576)} MB`);
  });

  it('sanitises hostile filenames (path, control characters, bidi override, 5 KB) for display and Content-Disposition', async () => {
    const jpeg = await fixtures.validImage.jpeg(32, 32);
    const cases: Array<[string, Parameters<typeof multipart>[0][number], (name: string) => void]> = [
      ['path traversal', { name: 'file', filename: '../../../etc/passwd.jpg', data: jpeg }, (n) => assert.equal(n, 'passwd.jpg')],
      ['windows path', { name: 'file', filename: '..\\..\\boot.ini.jpg', data: jpeg }, (n) => assert.equal(n, 'boot.ini.jpg')],
      [
        'control characters via RFC 5987',
        { name: 'file', dispositionParams: "filename*=UTF-8''evil%09X-Injected%3A%201%00%07%1B%7F%C2%85%E2%80%AEgpj.exe", data: jpeg },
        (n) => assert.equal(n, 'evilX-Injected: 1gpj.exe'),
      ],
      ['raw control characters', { name: 'file', filename: 'a\u0001b\u0008c.jpg', data: jpeg }, (n) => assert.equal(n, 'abc.jpg')],
      ['5 KB of text', { name: 'file', filename: `${'a'.repeat(5 * 1024)}.jpg`, data: jpeg }, (n) => assert.equal(n.length, 200)],
    ];
    for (const [label, part, check] of cases) {
      const res = await upload(multipart([part]));
      assert.equal(res.statusCode, 201, `${label}: ${res.body}`);
      const body = res.json() as { id: string; filename: string };
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(body.filename, /[\u0000-\u001f\u007f\u202e/\\]/, label);
      check(body.filename);
      const content = await images.app.inject({ method: 'GET', url: `/${body.id}/content`, headers: { authorization: auth } });
      const disposition = String(content.headers['content-disposition']);
      assert.match(disposition, /^inline; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+,-]*$/, label);
      assert.ok(!Object.keys(content.headers).includes('x-injected'), label);
    }
    const keys = await allKeys(images);
    assert.ok(
      keys.every((k) => /^users\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/(original|thumbnail\.webp)$/.test(k)),
      'keys never come from filenames',
    );
  });

  it('cuts a streamed (chunked, no Content-Length) upload off with 413 long before the client has sent it all', async () => {
    await images.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = images.app.server.address() as AddressInfo;
    const boundary = 'streamboundary';
    const total = 64 * 1024 * 1024;
    let sent = 0;
    let stoppedAt = -1;
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      // Stop producing as soon as the answer is in; read it, then drop the connection.
      req.once('response', () => {
        stoppedAt = sent;
        sent = total + 1;
      });
      pump();
    }).catch((err: unknown) => ({ status: -1, body: String(err) }));
    assert.equal(result.status, 413, result.body);
    assert.equal((JSON.parse(result.body) as ErrorResponse).error.code, 'IMAGES_TOO_LARGE');
    assert.ok(stoppedAt >= 0 && stoppedAt < total / 2, `answered after ${stoppedAt} of ${total} bytes were written`);
  });
});
