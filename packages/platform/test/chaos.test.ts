import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs, waitFor } from '@sre/testkit';
import { createHttpApp, createManagementApp, createPlatform, installChaos, parseConfig, baseConfigShape, chaosConfigShape, z } from '../src/index.js';

const config = { LOG_LEVEL: 'info' as const, READINESS_CACHE_MS: 0, READINESS_CHECK_TIMEOUT_MS: 200, BODY_LIMIT_BYTES: 1024, REQUEST_TIMEOUT_MS: 5000 };
const TOKEN = 'test-chaos-admin-token-0123456789';

function build(chaos: { CHAOS_ENABLED: boolean; CHAOS_ADMIN_TOKEN?: string }, random?: () => number) {
  const { lines, destination } = captureLogs();
  const platform = createPlatform({ service: 'demo', config, logDestination: destination, collectProcessMetrics: false });
  const app = createHttpApp(platform, { config });
  app.get('/api/items', async () => ({ ok: true }));
  app.get('/other', async () => ({ ok: true }));
  const management = createManagementApp(platform);
  const controller = installChaos(platform, app, management, { config: chaos, ...(random ? { random } : {}) });
  return { platform, app, management, controller, lines };
}

const auth = { 'x-chaos-token': TOKEN };

async function metric(management: ReturnType<typeof build>['management'], pattern: RegExp): Promise<string | undefined> {
  const res = await management.inject({ method: 'GET', url: '/metrics' });
  return res.body.split('\n').find((l) => pattern.test(l));
}

describe('fault injection (chaos)', () => {
  it('is absent (404) on the management port unless CHAOS_ENABLED=true, even with the token', async () => {
    const { management, controller } = build({ CHAOS_ENABLED: false, CHAOS_ADMIN_TOKEN: TOKEN });
    for (const [method, url] of [
      ['GET', '/chaos'],
      ['PUT', '/chaos/faults/readiness'],
      ['DELETE', '/chaos'],
    ] as const) {
      const res = await management.inject({ method, url, headers: auth, payload: method === 'PUT' ? { durationMs: 1000 } : undefined });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
    }
    assert.throws(() => controller.set('readiness', { durationMs: 1000 }), /disabled/);
    assert.match((await metric(management, /^chaos_enabled /)) ?? '', / 0$/);
  });

  it('refuses to start enabled without a long enough admin token', () => {
    assert.throws(() => build({ CHAOS_ENABLED: true }), /CHAOS_ADMIN_TOKEN/);
    assert.throws(() => build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: 'short' }), /at least 16/);
  });

  it('refuses a placeholder admin token (CHANGE_ME from secrets.example.yaml), in the schema and in installChaos', () => {
    const schema = z.object({ ...baseConfigShape, ...chaosConfigShape });
    for (const placeholder of ['CHANGE_ME', 'change-me-to-a-long-random-token', '<chaos-admin-token-here>', 'replace_me_0123456789abcdef']) {
      assert.throws(
        () => parseConfig('demo', schema, { CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: placeholder }),
        (err: Error) => /CHAOS_ADMIN_TOKEN is a placeholder value/.test(err.message) && !err.message.includes(placeholder),
        placeholder,
      );
    }
    assert.throws(() => build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: 'CHANGE_ME_chaos_admin_token' }), /placeholder/);
  });

  it('parses CHAOS_ENABLED and CHAOS_ADMIN_TOKEN from the environment through chaosConfigShape', () => {
    const schema = z.object({ ...baseConfigShape, ...chaosConfigShape });
    assert.equal(parseConfig('demo', schema, {}).CHAOS_ENABLED, false);
    const on = parseConfig('demo', schema, { CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: TOKEN });
    assert.equal(on.CHAOS_ENABLED, true);
    assert.equal(on.CHAOS_ADMIN_TOKEN, TOKEN);
  });

  it('answers 401 without the token, with a wrong token, and with a token of another length; the public port has no /chaos', async () => {
    const { app, management, lines } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    for (const headers of [{}, { 'x-chaos-token': `${TOKEN.slice(0, -1)}x` }, { 'x-chaos-token': 'x' }, { authorization: 'Bearer nope' }]) {
      const res = await management.inject({ method: 'PUT', url: '/chaos/faults/readiness', headers, payload: { durationMs: 1000 } });
      assert.equal(res.statusCode, 401);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'CHAOS_UNAUTHORIZED');
    }
    const bearer = await management.inject({ method: 'GET', url: '/chaos', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/chaos', headers: auth })).statusCode, 404);
    assert.ok(lines.some((l) => l.msg === 'chaos request refused: bad or missing token'));
    assert.ok(!JSON.stringify(lines).includes(TOKEN), 'the token never reaches the logs');
  });

  it('rejects unknown faults and invalid settings with 400 CHAOS_INVALID_FAULT', async () => {
    const { management } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    const cases: Array<[string, unknown]> = [
      ['/chaos/faults/explode', { durationMs: 1000 }],
      ['/chaos/faults/readiness', {}],
      ['/chaos/faults/readiness', { durationMs: 10 }],
      ['/chaos/faults/readiness', { durationMs: 99_999_999 }],
      ['/chaos/faults/latency', { durationMs: 1000 }],
      ['/chaos/faults/latency', { durationMs: 1000, latencyMs: 10, share: 2 }],
      ['/chaos/faults/errors', { durationMs: 1000, share: 0 }],
      ['/chaos/faults/errors', { durationMs: 1000, pathPrefix: 'api' }],
      ['/chaos/faults/cpu', { durationMs: 1000, workers: 100 }],
      ['/chaos/faults/memory', { durationMs: 1000, latencyMs: 5 }],
      ['/chaos/faults/readiness', [1]],
    ];
    for (const [url, payload] of cases) {
      const res = await management.inject({ method: 'PUT', url, headers: auth, payload: payload as object });
      assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(payload)}`);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'CHAOS_INVALID_FAULT');
    }
  });

  it('fails readiness on demand, logs and exports the toggle, and heals when cleared', async () => {
    const { management, lines } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    assert.equal((await management.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    const on = await management.inject({ method: 'PUT', url: '/chaos/faults/readiness', headers: auth, payload: { durationMs: 60_000 } });
    assert.equal(on.statusCode, 200);
    const ready = await management.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal((ready.json() as { checks: Record<string, { ok: boolean }> }).checks.chaos?.ok, false);
    assert.match((await metric(management, /^chaos_fault_active\{fault="readiness"\}/)) ?? '', / 1$/);
    assert.match((await metric(management, /^service_health_check_status\{check="chaos"\}/)) ?? '', / 0$/);
    const state = (await management.inject({ method: 'GET', url: '/chaos', headers: auth })).json() as { faults: Array<{ fault: string }> };
    assert.deepEqual(
      state.faults.map((f) => f.fault),
      ['readiness'],
    );
    assert.ok(lines.some((l) => l.msg === 'chaos fault switched on' && l.fault === 'readiness'));

    const off = await management.inject({ method: 'DELETE', url: '/chaos/faults/readiness', headers: auth });
    assert.deepEqual(off.json(), { fault: 'readiness', cleared: true });
    assert.equal((await management.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    assert.match((await metric(management, /^chaos_fault_active\{fault="readiness"\}/)) ?? '', / 0$/);
    assert.match((await metric(management, /^chaos_fault_toggles_total\{fault="readiness",action="off"\}/)) ?? '', / 1$/);
    assert.ok(lines.some((l) => l.msg === 'chaos fault switched off' && l.fault === 'readiness'));
  });

  it('switches a fault off by itself when its duration has elapsed', async () => {
    const { management, lines } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    await management.inject({ method: 'PUT', url: '/chaos/faults/readiness', headers: auth, payload: { durationMs: 300 } });
    assert.equal((await management.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    await waitFor(async () => (await management.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, {
      timeoutMs: 10_000,
      what: 'readiness to heal',
    });
    assert.match((await metric(management, /^chaos_fault_toggles_total\{fault="readiness",action="expired"\}/)) ?? '', / 1$/);
    assert.ok(lines.some((l) => l.msg === 'chaos fault switched off' && l.action === 'expired'));
  });

  it('answers 503 CHAOS_INJECTED_FAULT for the configured share of public requests under a path prefix', async () => {
    // A deterministic "random" source: alternating 0.1 and 0.9, so share 0.5 hits every other request.
    let i = 0;
    const { app, management } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN }, () => (i++ % 2 === 0 ? 0.1 : 0.9));
    await management.inject({ method: 'PUT', url: '/chaos/faults/errors', headers: auth, payload: { durationMs: 60_000, share: 0.5, pathPrefix: '/api' } });
    const statuses: number[] = [];
    for (let n = 0; n < 10; n++) statuses.push((await app.inject({ method: 'GET', url: '/api/items' })).statusCode);
    assert.deepEqual(statuses, [503, 200, 503, 200, 503, 200, 503, 200, 503, 200]);
    const failed = await app.inject({ method: 'GET', url: '/api/items' });
    assert.equal((failed.json() as { error: { code: string } }).error.code, 'CHAOS_INJECTED_FAULT');
    assert.equal(failed.headers['x-request-id'], (failed.json() as { error: { requestId: string } }).error.requestId);
    for (let n = 0; n < 4; n++) assert.equal((await app.inject({ method: 'GET', url: '/other' })).statusCode, 200, 'outside the prefix');
    // Injected errors count in the shared HTTP metrics, so the 5xx-ratio alerts see them.
    const series = (await management.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(series, /http_requests_total\{service="demo",method="GET",route="\/api\/items",status_code="503"\} [1-9]/);
    assert.match(series, /chaos_injected_requests_total\{fault="errors"\} [1-9]/);
  });

  it('delays public requests by latencyMs while on, and not once cleared', async () => {
    const { app, management } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    await management.inject({ method: 'PUT', url: '/chaos/faults/latency', headers: auth, payload: { durationMs: 60_000, latencyMs: 400 } });
    const slow = await app.inject({ method: 'GET', url: '/api/items' });
    assert.equal(slow.statusCode, 200);
    // A lower bound only: a delay can be longer on a busy machine, never shorter.
    const series = (await management.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(series, /http_request_duration_seconds_bucket\{le="0.25",service="demo",method="GET",route="\/api\/items",status_code="200"\} 0/);
    assert.match((await metric(management, /^chaos_injected_requests_total\{fault="latency"\}/)) ?? '', / 1$/);
    await management.inject({ method: 'DELETE', url: '/chaos', headers: auth });
    await app.inject({ method: 'GET', url: '/api/items' });
    assert.match((await metric(management, /^chaos_injected_requests_total\{fault="latency"\}/)) ?? '', / 1$/, 'no longer delayed');
    assert.match((await metric(management, /^chaos_fault_active\{fault="latency"\}/)) ?? '', / 0$/);
  });

  it('burns CPU in worker threads while the event loop keeps answering, then stops', async () => {
    const { app, management } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    // The same wall time without the fault, measured first: on a busy machine the worker gets only a
    // share of a core, so the burn is judged against this process idling, not against the clock.
    // One request first, so the app's own start-up work is not counted as idling.
    assert.equal((await app.inject({ method: 'GET', url: '/api/items' })).statusCode, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const idleBefore = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const idle = process.cpuUsage(idleBefore);
    const idleMs = (idle.user + idle.system) / 1000;

    const before = process.cpuUsage();
    const wallStart = performance.now();
    await management.inject({ method: 'PUT', url: '/chaos/faults/cpu', headers: auth, payload: { durationMs: 1500, workers: 1 } });
    assert.equal((await app.inject({ method: 'GET', url: '/api/items' })).statusCode, 200);
    await waitFor(async () => !/fault="cpu"\} 1/.test((await management.inject({ method: 'GET', url: '/metrics' })).body), {
      timeoutMs: 15_000,
      what: 'cpu fault to expire',
    });
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000;
    const wallMs = performance.now() - wallStart;
    // At least 50 ms more than idling would have cost over the same time (a worker starved to under 3 % of
    // a core is indistinguishable from idling; on a quiet machine the burn is ≈ 1500 ms).
    const idleShare = idleMs * (wallMs / 1500);
    assert.ok(cpuMs > idleShare + 50, `expected CPU burn: used ${cpuMs} ms over ${Math.round(wallMs)} ms, against ${idleMs} ms idle over 1500 ms`);
    // Switched off, the burn stops: the same wall time again costs about what idling does.
    const afterBefore = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const afterUsed = process.cpuUsage(afterBefore);
    const afterMs = (afterUsed.user + afterUsed.system) / 1000;
    assert.ok(afterMs < idleMs + (cpuMs - idleShare) / 2, `the burn stopped: ${afterMs} ms after the fault against ${cpuMs} ms during it`);
  });

  it('grows memory while on and releases it when switched off', async () => {
    const { management, controller } = build({ CHAOS_ENABLED: true, CHAOS_ADMIN_TOKEN: TOKEN });
    const baseline = process.memoryUsage().arrayBuffers;
    await management.inject({ method: 'PUT', url: '/chaos/faults/memory', headers: auth, payload: { durationMs: 60_000, mbPerSecond: 64, maxMb: 48 } });
    await waitFor(() => process.memoryUsage().arrayBuffers - baseline >= 40 * 1024 * 1024, { timeoutMs: 15_000, what: 'memory to grow by 40 MB' });
    const grown = process.memoryUsage().arrayBuffers - baseline;
    assert.ok(grown <= 60 * 1024 * 1024, `capped at maxMb, grew ${grown}`);
    assert.equal(controller.clear('memory'), true);
    assert.deepEqual(controller.active(), []);
  });
});
