import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '@sre/testkit';
import { renderLocalPrometheusConfig } from '../lib/local.js';
import { rulesDir } from '../lib/paths.js';
import type { SloStatus } from '../lib/slo/status.js';
import { getJson, needPrometheus, run, startPrometheus, tempDir, type ServerProcess } from './helpers.js';

/**
 * `npm run slo` against the real Prometheus loading the generated SLO rules, scraping a tiny exporter
 * that serves the gateway's request metrics: every scrape adds 1000 requests, 10 of them 5xx (1% = 10x
 * the 0.1% budget) and 100 slower than 1 s (10% = 10x the 1% latency budget). Whatever the scrape
 * timing, every window then holds exactly these shares.
 */

const cli = (args: string[]) => run(process.execPath, ['--conditions=development', '--import', 'tsx', 'monitoring/tools/slo.ts', ...args]);

describe('npm run slo', () => {
  const dir = tempDir('slo-status');
  let exporter: Server | undefined;
  let exporterUrl = '';
  let prometheus: ServerProcess | undefined;

  before(async () => {
    if (needPrometheus().skip) return;
    let scrapes = 0;
    exporter = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      scrapes += 1;
      const n = scrapes;
      const l = 'service="gateway",method="GET",route="/api/images"';
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end(
          [
            '# TYPE http_requests_total counter',
            `http_requests_total{${l},status_code="200"} ${n * 980}`,
            `http_requests_total{${l},status_code="404"} ${n * 10}`,
            `http_requests_total{${l},status_code="503"} ${n * 10}`,
            '# TYPE http_request_duration_seconds histogram',
            `http_request_duration_seconds_bucket{${l},status_code="200",le="1"} ${n * 900}`,
            `http_request_duration_seconds_bucket{${l},status_code="200",le="+Inf"} ${n * 1000}`,
            `http_request_duration_seconds_sum{${l},status_code="200"} ${n * 500}`,
            `http_request_duration_seconds_count{${l},status_code="200"} ${n * 1000}`,
            '',
          ].join('\n'),
        );
    });
    await new Promise<void>((resolve) => exporter?.listen(0, '127.0.0.1', resolve));
    const address = exporter.address();
    exporterUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const rules = join(dir.path, 'rules');
    mkdirSync(rules);
    for (const f of ['slo.rules.yml', 'slo.alerts.yml']) copyFileSync(join(rulesDir, f), join(rules, f));
    const port = await freePort();
    const config = join(dir.path, 'prometheus.yml');
    writeFileSync(
      config,
      renderLocalPrometheusConfig({
        targets: [{ service: 'gateway', pod: 'gateway-1', address: exporterUrl.slice('http://'.length) }],
        alertmanagers: [],
        scrapeInterval: '1s',
        evaluationInterval: '1s',
        rulesDirectory: rules,
        extraLabels: { namespace: 'local' },
      }),
    );
    prometheus = await startPrometheus(config, join(dir.path, 'tsdb'), port);
    type Result = { data: { result: unknown[] } };
    const ready = async (q: string) => (await getJson<Result>(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(q)}`)).data.result.length;
    await waitFor(
      async () =>
        (await ready('slo:error_budget_remaining:ratio{service="gateway"}')) === 2 &&
        (await ready('slo:sli_error:ratio_rate3d{service="gateway"}')) === 2 &&
        (await ready('ALERTS{service="gateway"}')) === 6,
      {
        timeoutMs: 60_000,
        what: 'the SLO rules evaluated on two scrapes',
      },
    );
  });
  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (exporter ? exporter.close(() => resolve()) : resolve()));
    dir.remove();
  });

  it('--json: SLI, budget remaining and burn rate per window for each SLO, with its pending alerts', needPrometheus(), async () => {
    const result = await cli(['--prometheus', prometheus?.url ?? '', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as SloStatus[];
    assert.deepEqual(
      rows.map((r) => `${r.name}/${r.slo}/${r.namespace ?? '-'}`),
      [
        'api-service/availability/local',
        'api-service/latency/local',
        'auth-service/availability/-',
        'auth-service/latency/-',
        'images-service/availability/-',
        'images-service/latency/-',
      ],
    );
    const [availability, latency, auth] = rows;
    assert.ok(availability && latency && auth);
    assert.equal(availability.objective, 0.999);
    assert.equal(availability.sli?.toFixed(4), '0.9900');
    assert.equal(availability.errorBudgetRemaining?.toFixed(2), '-9.00');
    for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) assert.equal(availability.burnRates[w]?.toFixed(2), '10.00', `availability ${w}`);
    assert.equal(latency.sli?.toFixed(4), '0.9000');
    assert.equal(latency.burnRates['1h']?.toFixed(2), '10.00');
    // 10x exceeds 6, 3 and 1 (not 14.4): those three pairs wait out their for:.
    assert.deepEqual(availability.alerts, ['page 6h/30m (pending)', 'ticket 1d/2h (pending)', 'ticket 3d/6h (pending)']);
    assert.equal(auth.sli, undefined);
    assert.deepEqual(auth.alerts, []);
  });

  it('prints a table', needPrometheus(), async () => {
    const result = await cli(['--prometheus', prometheus?.url ?? '']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^SLOs from http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1] ?? '', /^SERVICE +SLO +OBJECTIVE +WINDOW +SLI +BUDGET LEFT +BURN 5m +BURN 30m +BURN 1h +BURN 2h +BURN 6h +BURN 1d +BURN 3d +ALERTS$/);
    assert.match(
      lines[2] ?? '',
      /^api-service \(gateway, local\) +availability +99\.9% +30d +99\.000% +-900\.0% +10\.0 +10\.0 +10\.0 +10\.0 +10\.0 +10\.0 +10\.0 +page 6h\/30m \(pending\), ticket 1d\/2h \(pending\), ticket 3d\/6h \(pending\)$/,
    );
    assert.match(lines[3] ?? '', /^api-service \(gateway, local\) +latency +99% +30d +90\.000% +-900\.0% +(10\.0 +){7}page 6h\/30m/);
    assert.match(lines[4] ?? '', /^auth-service \(auth\) +availability +99\.9% +30d +— +— +(— +){7}no traffic$/);
  });

  it('says clearly when Prometheus is unreachable, or is not Prometheus', async () => {
    const port = await freePort();
    const down = await cli(['--prometheus', `http://127.0.0.1:${port}`]);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      new RegExp(`npm run slo: cannot reach Prometheus at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start it with \`npm run observe\``),
    );
    if (exporterUrl) {
      const wrong = await cli(['--prometheus', exporterUrl]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /answered 404 to slo:objective:ratio: not the Prometheus HTTP API/);
    }
    const bad = await cli(['--prometheus', 'localhost:9090']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--prometheus must be an http\(s\) URL/);
  });
});
