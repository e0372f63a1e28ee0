import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import type { components } from '@sre/web/api-types';
import { canBind, TLS_PROXY_ADDRESS } from '../src/loopback.js';
import sharp from 'sharp';
import {
  call,
  clientIpLogged,
  jpegImage,
  newEmail,
  pngImage,
  registerAndLogin,
  startPlatform,
  upload,
  uploadForm,
  type ErrorShape,
  type RunningPlatform,
  type Tokens,
} from './helpers.js';

/** The public API's shapes, generated from the gateway's OpenAPI document (npm run openapi), as the web app uses them. */
type ImageView = components['schemas']['Image'];
type ImagePage = components['schemas']['ImagePage'];

describe('the platform through the gateway, on the launcher', () => {
  let platform: RunningPlatform;
  let base: string;

  before(async () => {
    platform = await startPlatform({ https: true });
    base = platform.url;
  });

  after(async () => {
    await platform?.stop();
  });

  it('register → login → upload → list → thumbnail → content → delete → logout', async () => {
    const email = newEmail('flow');
    const reg = await call<{ id: string; email: string }>(base, 'POST', '/api/auth/register', {
      json: { email: `  ${email.toUpperCase()} `, password: 'a long passphrase' },
    });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.email, email);
    const login = await call<Tokens & { tokenType: string; expiresIn: number }>(base, 'POST', '/api/auth/login', {
      json: { email, password: 'a long passphrase' },
    });
    assert.equal(login.status, 200);
    assert.equal(login.body.tokenType, 'Bearer');
    const token = login.body.accessToken;

    const me = await call<{ id: string; email: string }>(base, 'GET', '/api/auth/me', { token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, reg.body.id);

    const first = await upload(base, token, await pngImage(64, 48), 'first.png');
    assert.equal(first.status, 201, first.raw.toString());
    assert.equal(first.body.width, 64);
    const second = await upload(base, token, await jpegImage(80, 60), 'second.jpg', 'image/jpeg');
    assert.equal(second.status, 201, second.raw.toString());

    const list = await call<ImagePage>(base, 'GET', '/api/images?limit=1', { token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((i) => i.id),
      [second.body.id],
      'newest first',
    );
    assert.ok(list.body.nextCursor);
    const page2 = await call<ImagePage>(base, 'GET', `/api/images?limit=1&cursor=${encodeURIComponent(list.body.nextCursor)}`, { token });
    assert.deepEqual(
      page2.body.items.map((i) => i.id),
      [first.body.id],
    );

    const thumb = await call(base, 'GET', `/api/images/${first.body.id}/thumbnail`, { token });
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
    const thumbMeta = await sharp(thumb.raw).metadata();
    assert.equal(thumbMeta.format, 'webp');

    const content = await call(base, 'GET', `/api/images/${first.body.id}/content`, { token });
    assert.equal(content.status, 200);
    assert.equal(content.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(content.raw).metadata()).width, 64);
    const etag = content.headers.get('etag');
    assert.ok(etag);
    const cached = await call(base, 'GET', `/api/images/${first.body.id}/content`, { token, headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);

    const del = await call(base, 'DELETE', `/api/images/${first.body.id}`, { token });
    assert.equal(del.status, 204);
    assert.equal((await call(base, 'GET', `/api/images/${first.body.id}`, { token })).status, 404);
    assert.equal((await call(base, 'GET', `/api/images/${first.body.id}/content`, { token })).status, 404);

    const logout = await call(base, 'POST', '/api/auth/logout', { json: { refreshToken: login.body.refreshToken } });
    assert.equal(logout.status, 204);
    const refreshAfterLogout = await call<ErrorShape>(base, 'POST', '/api/auth/refresh', { json: { refreshToken: login.body.refreshToken } });
    assert.equal(refreshAfterLogout.status, 401);
    assert.equal(refreshAfterLogout.body.error.code, 'AUTH_REFRESH_INVALID');
  });

  it('rotates refresh tokens and revokes the family when an old one is reused', async () => {
    const user = await registerAndLogin(base);
    const rotated = await call<Tokens>(base, 'POST', '/api/auth/refresh', { json: { refreshToken: user.refreshToken } });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.refreshToken, user.refreshToken);
    assert.equal((await call(base, 'GET', '/api/images', { token: rotated.body.accessToken })).status, 200, 'the new access token works at the gateway');

    const reuse = await call<ErrorShape>(base, 'POST', '/api/auth/refresh', { json: { refreshToken: user.refreshToken } });
    assert.equal(reuse.status, 401);
    const familyGone = await call<ErrorShape>(base, 'POST', '/api/auth/refresh', { json: { refreshToken: rotated.body.refreshToken } });
    assert.equal(familyGone.status, 401, 'reuse revoked the whole family');
  });

  it("keeps users apart: a second user cannot list, read, fetch or delete the first user's images", async () => {
    const alice = await registerAndLogin(base);
    const bob = await registerAndLogin(base);
    const image = await upload(base, alice.accessToken, await pngImage(10, 10), 'alice.png');
    assert.equal(image.status, 201);
    const bobList = await call<ImagePage>(base, 'GET', '/api/images', { token: bob.accessToken });
    assert.equal(bobList.status, 200);
    assert.equal(bobList.body.items.length, 0);
    for (const [method, path] of [
      ['GET', `/api/images/${image.body.id}`],
      ['GET', `/api/images/${image.body.id}/content`],
      ['GET', `/api/images/${image.body.id}/thumbnail`],
      ['DELETE', `/api/images/${image.body.id}`],
    ] as const) {
      const res = await call<ErrorShape>(base, method, path, { token: bob.accessToken });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error.code, 'IMAGES_NOT_FOUND');
    }
    assert.equal((await call(base, 'GET', `/api/images/${image.body.id}`, { token: alice.accessToken })).status, 200, 'still there for its owner');
  });

  it('answers bad input end to end with documented 4xx codes, never 5xx', async () => {
    const user = await registerAndLogin(base);
    const token = user.accessToken;
    const png = await pngImage(32, 32);
    // A PNG header claiming 20000 × 20000 pixels (a decompression bomb), with a valid IHDR CRC.
    const bomb = Buffer.from(png);
    bomb.writeUInt32BE(20000, 16);
    bomb.writeUInt32BE(20000, 20);
    const { crc32 } = await import('node:zlib');
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)) >>> 0, 29);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    const auth = (json: unknown, headers?: Record<string, string>) => ({ json, ...(headers ? { headers } : {}) });

    const cases: Array<{ name: string; method: string; path: string; options: Parameters<typeof call>[3]; status: number; codes: string[] }> = [
      {
        name: 'malformed JSON',
        method: 'POST',
        path: '/api/auth/register',
        options: { body: '{"email":', headers: { 'content-type': 'application/json' } },
        status: 400,
        codes: ['MALFORMED_JSON'],
      },
      {
        name: 'empty JSON body',
        method: 'POST',
        path: '/api/auth/login',
        options: { body: '', headers: { 'content-type': 'application/json' } },
        status: 400,
        codes: ['EMPTY_BODY'],
      },
      {
        name: 'wrong content type',
        method: 'POST',
        path: '/api/auth/login',
        options: { body: 'email=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        status: 415,
        codes: ['UNSUPPORTED_MEDIA_TYPE'],
      },
      {
        name: 'extra field',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: newEmail(), password: 'password123', admin: true }),
        status: 400,
        codes: ['VALIDATION_FAILED'],
      },
      { name: 'missing password', method: 'POST', path: '/api/auth/register', options: auth({ email: newEmail() }), status: 400, codes: ['VALIDATION_FAILED'] },
      {
        name: 'short password',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: newEmail(), password: 'short' }),
        status: 400,
        codes: ['AUTH_PASSWORD_POLICY'],
      },
      {
        name: 'overlong password',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: newEmail(), password: 'p'.repeat(129) }),
        status: 400,
        codes: ['AUTH_PASSWORD_POLICY'],
      },
      {
        name: 'invalid email',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: 'not-an-email', password: 'password123' }),
        status: 400,
        codes: ['AUTH_EMAIL_INVALID'],
      },
      {
        name: 'SQL injection email',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: "x' OR '1'='1", password: 'password123' }),
        status: 400,
        codes: ['AUTH_EMAIL_INVALID'],
      },
      {
        name: 'SQL injection login',
        method: 'POST',
        path: '/api/auth/login',
        options: auth({ email: "admin@example.test' --", password: "' OR 1=1 --" }),
        status: 401,
        codes: ['AUTH_INVALID_CREDENTIALS'],
      },
      {
        name: 'duplicate email',
        method: 'POST',
        path: '/api/auth/register',
        options: auth({ email: user.email, password: 'password123' }),
        status: 409,
        codes: ['AUTH_EMAIL_TAKEN'],
      },
      {
        name: 'wrong password',
        method: 'POST',
        path: '/api/auth/login',
        options: auth({ email: user.email, password: 'wrong password!' }),
        status: 401,
        codes: ['AUTH_INVALID_CREDENTIALS'],
      },
      {
        name: 'oversized auth body',
        method: 'POST',
        path: '/api/auth/login',
        options: auth({ email: newEmail(), password: 'x'.repeat(200_000) }),
        status: 413,
        codes: ['GATEWAY_PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE'],
      },
      {
        name: 'garbage refresh token',
        method: 'POST',
        path: '/api/auth/refresh',
        options: auth({ refreshToken: 'nope' }),
        status: 401,
        codes: ['AUTH_REFRESH_INVALID'],
      },
      { name: 'me without token', method: 'GET', path: '/api/auth/me', options: {}, status: 401, codes: ['GATEWAY_UNAUTHORIZED'] },
      {
        name: 'tampered token',
        method: 'GET',
        path: '/api/images',
        options: { token: `${token.slice(0, -3)}abc` },
        status: 401,
        codes: ['GATEWAY_UNAUTHORIZED'],
      },
      {
        name: 'text renamed .jpg',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'file', data: 'just some text, not an image', filename: 'notes.jpg', type: 'image/jpeg' }]) },
        status: 415,
        codes: ['IMAGES_UNSUPPORTED_TYPE'],
      },
      {
        name: 'SVG with a script',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'file', data: svg, filename: 'x.svg', type: 'image/svg+xml' }]) },
        status: 415,
        codes: ['IMAGES_UNSUPPORTED_TYPE'],
      },
      {
        name: 'zero-byte file',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'file', data: Buffer.alloc(0), filename: 'empty.png', type: 'image/png' }]) },
        status: 400,
        codes: ['IMAGES_EMPTY_FILE'],
      },
      {
        name: 'truncated PNG',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'file', data: png.subarray(0, 60), filename: 'cut.png', type: 'image/png' }]) },
        status: 422,
        codes: ['IMAGES_INVALID_IMAGE'],
      },
      {
        name: 'decompression bomb',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'file', data: bomb, filename: 'bomb.png', type: 'image/png' }]) },
        status: 422,
        codes: ['IMAGES_TOO_MANY_PIXELS'],
      },
      {
        name: 'no file part',
        method: 'POST',
        path: '/api/images',
        options: { token, body: uploadForm([{ name: 'title', data: 'hello' }]) },
        status: 400,
        codes: ['IMAGES_FILE_MISSING', 'IMAGES_UNEXPECTED_PART'],
      },
      {
        name: 'two files',
        method: 'POST',
        path: '/api/images',
        options: {
          token,
          body: uploadForm([
            { name: 'file', data: png, filename: 'a.png', type: 'image/png' },
            { name: 'file', data: png, filename: 'b.png', type: 'image/png' },
          ]),
        },
        status: 400,
        codes: ['IMAGES_UNEXPECTED_PART'],
      },
      {
        name: 'not multipart',
        method: 'POST',
        path: '/api/images',
        options: { token, body: new Uint8Array(png), headers: { 'content-type': 'image/png' } },
        status: 415,
        codes: ['IMAGES_MULTIPART_REQUIRED'],
      },
      {
        name: 'oversized upload',
        method: 'POST',
        path: '/api/images',
        options: {
          token,
          body: uploadForm([{ name: 'file', data: Buffer.concat([png, Buffer.alloc(11 * 1024 * 1024)]), filename: 'big.png', type: 'image/png' }]),
        },
        status: 413,
        codes: ['IMAGES_TOO_LARGE', 'GATEWAY_PAYLOAD_TOO_LARGE'],
      },
      { name: 'malformed image id', method: 'GET', path: '/api/images/not-a-uuid', options: { token }, status: 400, codes: ['IMAGES_INVALID_ID'] },
      {
        name: 'unknown image id',
        method: 'GET',
        path: '/api/images/00000000-0000-4000-8000-000000000000/content',
        options: { token },
        status: 404,
        codes: ['IMAGES_NOT_FOUND'],
      },
      { name: 'bad list limit', method: 'GET', path: '/api/images?limit=abc', options: { token }, status: 400, codes: ['IMAGES_INVALID_QUERY'] },
      { name: 'bad cursor', method: 'GET', path: '/api/images?cursor=%00%00garbage', options: { token }, status: 400, codes: ['IMAGES_INVALID_QUERY'] },
      { name: 'unknown API route', method: 'GET', path: '/api/nothing-here', options: { token }, status: 404, codes: ['NOT_FOUND'] },
    ];
    const failures: string[] = [];
    for (const c of cases) {
      let res;
      try {
        res = await call<ErrorShape>(base, c.method, c.path, c.options);
      } catch (err) {
        failures.push(`${c.name}: request failed (${(err as Error).message})`);
        continue;
      }
      const code = (res.body as ErrorShape | undefined)?.error?.code;
      if (res.status >= 500) failures.push(`${c.name}: ${res.status} ${code} (a 5xx)`);
      else if (res.status !== c.status || !code || !c.codes.includes(code))
        failures.push(`${c.name}: expected ${c.status} ${c.codes.join('|')}, got ${res.status} ${code}`);
      else if (res.body.error.requestId !== res.headers.get('x-request-id')) failures.push(`${c.name}: requestId does not match x-request-id`);
    }
    assert.deepEqual(failures, []);
  });

  it('serves the web app and the API over HTTPS with HSTS (self-signed certificate)', async () => {
    const httpsUrl = platform.launcher.state.httpsUrl;
    assert.ok(httpsUrl);
    const port = Number(new URL(httpsUrl).port);
    const res = await new Promise<{ status: number; hsts: string | undefined; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false, servername: 'localhost' }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.match(res.body, /<title>Images/);
    assert.match(res.hsts ?? '', /max-age=\d+/);
    const plain = await call(base, 'GET', '/');
    assert.equal(plain.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
  });

  it('believes X-Forwarded-For only from its own proxies: the TLS proxy for the gateway, the gateway for Auth', async () => {
    // On Linux the proxies have their own loopback addresses (loopback.ts); elsewhere this check does not apply.
    assert.ok(await canBind(TLS_PROXY_ADDRESS), `${TLS_PROXY_ADDRESS} must be a loopback address on the test machine (Linux)`);
    const spoofed = '203.0.113.7';
    const loggedClient = (service: 'gateway' | 'auth', requestId: string) => clientIpLogged(platform.dataDir, service, requestId);

    const direct = randomUUID();
    const login = { json: { email: newEmail('spoof'), password: 'not the password' } };
    await call(base, 'POST', '/api/auth/login', { ...login, headers: { 'x-forwarded-for': spoofed, 'x-request-id': direct } });
    assert.equal(await loggedClient('gateway', direct), '127.0.0.1', 'a local client chose the gateway’s view of its address');
    // The gateway forwarded the address it saw, from 127.0.0.3, and Auth believed that one.
    assert.equal(await loggedClient('auth', direct), '127.0.0.1');

    const authDirect = randomUUID();
    await call(platform.launcher.state.services.auth.url, 'POST', '/login', { ...login, headers: { 'x-forwarded-for': spoofed, 'x-request-id': authDirect } });
    assert.equal(await loggedClient('auth', authDirect), '127.0.0.1', 'a local client chose Auth’s view of its address');

    // Through the TLS proxy (127.0.0.2): its X-Forwarded-For is believed, one hop only.
    const viaTls = randomUUID();
    const port = Number(new URL(platform.launcher.state.httpsUrl ?? '').port);
    // A login, not /me: the gateway answers an unauthenticated /me itself and Auth would never see the request.
    const body = JSON.stringify(login.json);
    const tlsStatus = await new Promise<number>((resolve, reject) => {
      const headers = { 'x-forwarded-for': spoofed, 'x-request-id': viaTls, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const req = httpsRequest(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/auth/login', headers, rejectUnauthorized: false, servername: 'localhost' },
        (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(tlsStatus, 401, 'the wrong password reached Auth through the TLS proxy and the gateway');
    assert.equal(await loggedClient('gateway', viaTls), '127.0.0.1');
    // The gateway forwarded "127.0.0.1, 127.0.0.2" (the chain it believed): Auth believes both proxies.
    assert.equal(await loggedClient('auth', viaTls), '127.0.0.1', 'Auth took the TLS proxy for the client');
  });

  it('Auth stopped: existing tokens still work for images, login answers 503; Images stopped: image routes 503, auth works; both back without restarting the gateway', async () => {
    const user = await registerAndLogin(base);
    const gatewayPid = platform.launcher.state.services.gateway.instances[0]!.pid;

    await platform.launcher.stopService('auth');
    const list = await call(base, 'GET', '/api/images', { token: user.accessToken });
    assert.equal(list.status, 200, 'images routes keep working with a token issued before the outage');
    const up = await upload(base, user.accessToken, await pngImage(20, 20), 'during-auth-outage.png');
    assert.equal(up.status, 201);
    const login = await call<ErrorShape>(base, 'POST', '/api/auth/login', { json: { email: user.email, password: user.password } });
    assert.equal(login.status, 503);
    assert.equal(login.body.error.code, 'GATEWAY_UPSTREAM_UNAVAILABLE');
    assert.equal((await fetch(`${platform.launcher.state.services.gateway.instances[0]!.managementUrl}/readyz`)).status, 200, 'gateway stays ready');

    await platform.launcher.startService('auth');
    await waitFor(async () => (await call(base, 'POST', '/api/auth/login', { json: { email: user.email, password: user.password } })).status === 200, {
      what: 'login after Auth is back',
      timeoutMs: 20_000,
      intervalMs: 250,
    });

    await platform.launcher.stopService('images');
    for (const path of ['/api/images', `/api/images/${up.body.id}/content`]) {
      const res = await call<ErrorShape>(base, 'GET', path, { token: user.accessToken });
      assert.equal(res.status, 503, path);
      assert.equal(res.body.error.code, 'GATEWAY_UPSTREAM_UNAVAILABLE');
    }
    const uploadDown = await upload(base, user.accessToken, await pngImage(20, 20), 'x.png');
    assert.equal(uploadDown.status, 503);
    const me = await call(base, 'GET', '/api/auth/me', { token: user.accessToken });
    assert.equal(me.status, 200, 'auth routes unaffected');

    await platform.launcher.startService('images');
    await waitFor(async () => (await call(base, 'GET', '/api/images', { token: user.accessToken })).status === 200, {
      what: 'images routes after Images is back',
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    const back = await call<ImageView>(base, 'GET', `/api/images/${up.body.id}`, { token: user.accessToken });
    assert.equal(back.status, 200);
    assert.equal(platform.launcher.state.services.gateway.instances[0]!.pid, gatewayPid, 'the gateway was not restarted');
  });

  it('restarts a crashed service, says so, and the platform serves again with its data', async () => {
    const user = await registerAndLogin(base);
    const image = await upload(base, user.accessToken, await pngImage(30, 30), 'before-crash.png');
    assert.equal(image.status, 201);
    const before = platform.launcher.state.services.images.instances[0]!.pid;
    assert.ok(before);
    process.kill(before, 'SIGKILL');
    await waitFor(() => platform.output.some((l) => /images was killed by SIGKILL; restarting/.test(l)), {
      what: 'the launcher to report the crash',
      timeoutMs: 10_000,
    });
    await waitFor(
      async () => {
        const pid = platform.launcher.state.services.images.instances[0]!.pid;
        return pid !== undefined && pid !== before && (await call(base, 'GET', `/api/images/${image.body.id}`, { token: user.accessToken })).status === 200;
      },
      { what: 'images restarted and serving', timeoutMs: 30_000, intervalMs: 250 },
    );
  });
});
