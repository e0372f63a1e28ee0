import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeRequest, fuzzRequests, sendRaw } from '@sre/testkit';
import { startTestAuth, uniqueEmail, type TestAuth, type TokenPair } from './helpers.js';

describe('auth answers hostile requests without a 5xx', () => {
  let auth: TestAuth;
  let port: number;
  let bearer: string;

  before(async () => {
    auth = await startTestAuth({ LOG_LEVEL: 'silent' });
    const email = uniqueEmail('fuzz');
    const body = JSON.stringify({ email, password: 'correct horse battery' });
    const headers = { 'content-type': 'application/json' };
    assert.equal((await auth.app.inject({ method: 'POST', url: '/register', headers, payload: body })).statusCode, 201);
    bearer = ((await auth.app.inject({ method: 'POST', url: '/login', headers, payload: body })).json() as TokenPair).accessToken;
    await auth.app.listen({ host: '127.0.0.1', port: 0 });
    port = (auth.app.server.address() as { port: number }).port;
  });
  after(() => auth.close());

  it('answers 300 fuzzed requests (fixed seed, raw bytes) over its routes with 4xx at worst, each in the one error shape', async () => {
    let refused = 0;
    const requests = fuzzRequests({
      seed: 1501,
      count: 300,
      prefixes: ['', '/register', '/login', '/refresh', '/logout', '/me', '/.well-known', '/.well-known/jwks.json'],
      extraHeaders: [{ authorization: `Bearer ${bearer}` }, { 'content-type': 'application/json' }],
    });
    for (const request of requests) {
      const res = await sendRaw(port, request);
      assert.ok(res.status > 0 && res.status < 500, `${res.status} ${res.body.slice(0, 200)} for ${describeRequest(request)}`);
      if (res.status >= 400 && request.method !== 'HEAD') {
        assert.match(res.body, /"requestId":"[^"]+"/, describeRequest(request));
        refused += 1;
      }
    }
    assert.ok(refused > 100, `only ${refused} refusals: the fuzz is too tame`);
  });
});
