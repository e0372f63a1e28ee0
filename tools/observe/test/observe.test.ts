import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, requireTool, waitFor } from '@sre/testkit';
import { parse } from 'yaml';
import {
  MONITORING_DIR,
  alertmanagerConfig,
  alertmanagerSource,
  parseDuration,
  prometheusConfig,
  ruleFiles,
  scaleExprRanges,
  scaledRules,
} from '../src/config.js';
import { startSlackSink } from '../src/sink.js';
import { startObserve } from '../src/stack.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'observe-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Yaml = Record<string, unknown>;

describe('observe: configuration generated from monitoring/', () => {
  it('scales durations and range selectors, never below the floor, and leaves 0 alone', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.throws(() => parseDuration('5 minutes'));
    assert.equal(scaleExprRanges('sum(rate(x[2m])) / sum(rate(y[5m:30s]))', 10, 4000), 'sum(rate(x[12s])) / sum(rate(y[30s:3s]))');
    assert.equal(scaleExprRanges('rate(x[10s])', 10, 4000), 'rate(x[4s])');
    assert.equal(scaleExprRanges('rate(x[2m])', 1, 4000), 'rate(x[2m])');
  });

  it('a scaled rules copy keeps every rule, label and annotation; only for: and ranges change', () => {
    for (const file of ruleFiles()) {
      const source = parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Yaml[] }> };
      const text = scaledRules(file, 10, 1);
      assert.match(text, /^# Generated from monitoring\/rules\/.* — do not edit\./);
      const copy = parse(text) as { groups: Array<{ rules: Yaml[] }> };
      assert.equal(copy.groups.length, source.groups.length);
      source.groups.forEach((g, i) => {
        const c = copy.groups[i] as { rules: Yaml[] };
        assert.equal(c.rules.length, g.rules.length);
        g.rules.forEach((r, j) => {
          const s = c.rules[j] as Yaml;
          assert.equal(s.alert, r.alert);
          assert.equal(s.record, r.record);
          assert.deepEqual(s.labels, r.labels);
          assert.deepEqual(s.annotations, r.annotations);
          if (typeof r.for === 'string')
            assert.equal(parseDuration(s.for as string), parseDuration(r.for) === 0 ? 0 : Math.max(1000, Math.round(parseDuration(r.for) / 10 / 1000) * 1000));
          assert.equal(String(s.expr).replace(/\[[0-9a-z:]+\]/g, '[]'), String(r.expr).replace(/\[[0-9a-z:]+\]/g, '[]'));
        });
      });
    }
  });

  it('derives Alertmanager from monitoring/: same routes, receivers and inhibition; Slack to the given URL; templates found', () => {
    const source = parse(readFileSync(alertmanagerSource(), 'utf8')) as Yaml;
    const text = alertmanagerConfig({ slackUrl: 'http://127.0.0.1:9/services/sink', timeScale: 1 });
    const derived = parse(text) as Yaml;
    assert.deepEqual(derived.inhibit_rules, source.inhibit_rules);
    assert.deepEqual(derived.route, source.route);
    const receivers = derived.receivers as Array<{ name: string; slack_configs: Yaml[] }>;
    assert.deepEqual(
      receivers.map((r) => r.name),
      (source.receivers as Array<{ name: string }>).map((r) => r.name),
    );
    for (const r of receivers) {
      for (const s of r.slack_configs) {
        assert.equal(s.api_url, 'http://127.0.0.1:9/services/sink');
        assert.equal(s.api_url_file, undefined);
      }
    }
    for (const t of derived.templates as string[]) assert.ok(t.startsWith(join(MONITORING_DIR, 'alertmanager', 'templates')), t);
    assert.doesNotMatch(text, /\/etc\/alertmanager/);
    const scaled = parse(alertmanagerConfig({ slackUrl: 'http://x/', timeScale: 10 })) as {
      route: { group_wait: string; routes: Array<{ group_interval: string }> };
    };
    assert.equal(scaled.route.group_wait, '3s');
  });

  it('scrapes the launcher targets as job "platform" with the service and pod labels the rules use', () => {
    const text = prometheusConfig(
      {
        targets: [{ address: '127.0.0.1:9465', service: 'auth', pod: 'auth' }],
        alertmanagerAddress: '127.0.0.1:9093',
        prometheusAddress: '127.0.0.1:9090',
        slackUrl: '',
        outDir: scratch,
        scrapeIntervalSeconds: 1,
        timeScale: 1,
      },
      ['/r.yml'],
    );
    const cfg = parse(text) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[]; labels?: Yaml }> }>;
      rule_files: string[];
    };
    const platform = cfg.scrape_configs.find((s) => s.job_name === 'platform');
    assert.deepEqual(platform?.static_configs[0], { targets: ['127.0.0.1:9465'], labels: { service: 'auth', pod: 'auth', namespace: 'local' } });
    assert.deepEqual(cfg.rule_files, ['/r.yml']);
  });

  it('carries the cluster’s metric relabelling of the platform job (one source: monitoring/lib/local.ts)', () => {
    type Job = { job_name: string; metric_relabel_configs?: unknown[] };
    const cluster = parse(readFileSync(join(MONITORING_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as { scrape_configs: Job[] };
    const expected = cluster.scrape_configs.find((j) => j.job_name === 'platform')?.metric_relabel_configs;
    assert.ok(expected && expected.length > 0, 'the cluster configuration relabels the platform job');
    const text = prometheusConfig(
      {
        targets: [{ address: '127.0.0.1:9465', service: 'auth', pod: 'auth' }],
        alertmanagerAddress: '127.0.0.1:9093',
        prometheusAddress: '127.0.0.1:9090',
        slackUrl: '',
        outDir: scratch,
        scrapeIntervalSeconds: 1,
        timeScale: 1,
      },
      ['/r.yml'],
    );
    const local = parse(text) as { scrape_configs: Job[]; global: Record<string, unknown> };
    assert.deepEqual(local.scrape_configs.find((j) => j.job_name === 'platform')?.metric_relabel_configs, expected);
    assert.deepEqual(local.global.external_labels, { environment: 'local' });
  });

  it(
    'the generated configuration passes promtool and amtool',
    { skip: requireTool('promtool', 'apt-get install prometheus').skip || requireTool('amtool', 'apt-get install prometheus-alertmanager').skip },
    async () => {
      const { writeFileSync, mkdirSync } = await import('node:fs');
      const dir = join(scratch, 'check');
      mkdirSync(dir, { recursive: true });
      const rules = ruleFiles().map((f) => {
        const out = join(dir, f.split('/').at(-1) as string);
        writeFileSync(out, scaledRules(f, 10, 1));
        return out;
      });
      writeFileSync(
        join(dir, 'prometheus.yml'),
        prometheusConfig(
          {
            targets: [{ address: '127.0.0.1:1', service: 'auth', pod: 'auth' }],
            alertmanagerAddress: '127.0.0.1:2',
            prometheusAddress: '127.0.0.1:3',
            slackUrl: '',
            outDir: dir,
            scrapeIntervalSeconds: 1,
            timeScale: 10,
          },
          rules,
        ),
      );
      writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig({ slackUrl: 'http://127.0.0.1:9/services/x', timeScale: 10 }));
      const run = (cmd: string, args: string[]) =>
        new Promise<string>((done, fail) => execFile(cmd, args, (err, out, errOut) => (err ? fail(new Error(`${cmd}: ${errOut || out}`)) : done(out))));
      await run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      await run('amtool', ['check-config', join(dir, 'alertmanager.yml')]);
    },
  );
});

describe('observe: the Slack sink', () => {
  it('stores and prints what Alertmanager posts, answers "ok", and refuses what Slack would refuse', async () => {
    const printed: string[] = [];
    const sink = await startSlackSink({ print: (l) => printed.push(l), file: join(scratch, 'sink.jsonl') });
    try {
      const payload = {
        channel: '#all-sre-project',
        attachments: [{ title: '[FIRING:1] ServiceDown · critical · auth', text: '<https://example.test/docs/runbooks/ServiceDown.md|Runbook>' }],
      };
      const ok = await fetch(sink.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'ok');
      assert.equal((await fetch(sink.webhookUrl, { method: 'POST', body: 'not json' })).status, 400);
      assert.equal((await fetch(sink.webhookUrl, { method: 'POST', body: '{"channel":"#x"}' })).status, 400);
      const stored = (await (await fetch(`${sink.url}/notifications`)).json()) as Array<{ payload: unknown }>;
      assert.deepEqual(
        stored.map((s) => s.payload),
        [payload],
      );
      assert.match(
        printed[0] ?? '',
        /#all-sre-project \[FIRING:1\] ServiceDown · critical · auth — runbook https:\/\/example\.test\/docs\/runbooks\/ServiceDown\.md/,
      );
      assert.equal(readFileSync(join(scratch, 'sink.jsonl'), 'utf8').trim().split('\n').length, 1);
    } finally {
      await sink.close();
    }
  });
});

const noMonitoringBinaries =
  requireTool('prometheus', 'apt-get install prometheus').skip || requireTool('prometheus-alertmanager', 'apt-get install prometheus-alertmanager').skip;

describe('observe: the real stack', { skip: noMonitoringBinaries }, () => {
  it('scrapes a target, loads monitoring/rules, fires an alert and delivers it to the sink with its runbook link', async () => {
    // A stand-in service: one /metrics endpoint whose readiness gauge says the database is down.
    const target = createServer((req, res) => {
      if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain' }).end('service_health_check_status{check="database"} 0\n');
      else res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const port = (target.address() as { port: number }).port;
    const stack = await startObserve({
      targets: [{ address: `127.0.0.1:${port}`, service: 'images', pod: 'images-1' }],
      dataDir: join(scratch, 'stack'),
      timeScale: 20,
      print: () => undefined,
    });
    try {
      assert.ok(stack.sink, 'no SLACK_WEBHOOK_URL given: the local sink receives notifications');
      const state = JSON.parse(readFileSync(stack.stateFile, 'utf8')) as { prometheusUrl: string; sinkUrl: string };
      assert.equal(state.prometheusUrl, stack.prometheusUrl);
      await waitFor(() => (stack.sink?.notifications ?? []).some((n) => JSON.stringify(n.payload).includes('ServiceDependencyDown')), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'ServiceDependencyDown in the sink',
      });
      const note = stack.sink?.notifications.find((n) => JSON.stringify(n.payload).includes('ServiceDependencyDown'));
      assert.match(JSON.stringify(note?.payload), /docs\/runbooks\/ServiceDependencyDown\.md/);
      assert.equal((note?.payload as { channel?: string }).channel, '#all-sre-project');
      // The launcher restarted with other ports: the stack follows without a restart.
      await stack.setTargets([{ address: `127.0.0.1:${port}`, service: 'images', pod: 'images-2' }]);
      await waitFor(
        async () => {
          const body = (await (await fetch(`${stack.prometheusUrl}/api/v1/targets`)).json()) as {
            data: { activeTargets: Array<{ labels: Record<string, string> }> };
          };
          return body.data.activeTargets.some((t) => t.labels.pod === 'images-2') && !body.data.activeTargets.some((t) => t.labels.pod === 'images-1');
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'Prometheus to scrape the new target set' },
      );
    } finally {
      await stack.stop();
      await new Promise<void>((r) => target.close(() => r()));
    }
  });
});

describe('observe: command line', () => {
  it('names the missing Debian packages when the binaries are absent', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        process.execPath,
        ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/observe/main.ts')],
        { cwd: ROOT, env: { ...process.env, PATH: '/nonexistent' }, timeout: 30_000 },
        (err, _out, errOut) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr: errOut }),
      ),
    );
    assert.equal(code, 1);
    assert.match(stderr, /Debian packages prometheus and prometheus-alertmanager/);
    assert.match(stderr, /apt-get install -y --no-install-recommends prometheus prometheus-alertmanager/);
  });

  /** Runs observe with `args` until it exits or prints `until`, then Ctrl-C. */
  async function runObserve(
    args: string[],
    until?: RegExp,
    whileRunning?: (output: string) => Promise<void>,
  ): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'tools/observe/main.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    try {
      await waitFor(() => until?.test(output) || child.exitCode !== null, { what: until ? `observe to print ${until}` : 'observe to exit', timeoutMs: 60_000 });
      if (whileRunning && child.exitCode === null) await whileRunning(output);
    } finally {
      if (child.exitCode === null) child.kill('SIGINT');
    }
    return { code: await exited, output };
  }

  function launcherState(dataDir: string, launcherPid: number, managementPort: number): void {
    const instance = { label: 'gateway', port: 1, managementPort, pid: process.pid, managementUrl: `http://127.0.0.1:${managementPort}` };
    writeFileSync(
      join(dataDir, 'launcher.json'),
      JSON.stringify({ pid: launcherPid, appUrl: 'http://localhost:1', dataDir, services: { gateway: { url: 'x', instances: [instance] } } }),
    );
  }

  it('refuses, naming the folder, when no platform runs from --data-dir instead of scraping default ports', { skip: noMonitoringBinaries }, async () => {
    const dataDir = mkdtempSync(join(scratch, 'empty-'));
    const { code, output } = await runObserve(['--data-dir', dataDir]);
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`no platform is running from ${dataDir}`));
    assert.doesNotMatch(output, /scraping/);
  });

  it('refuses a launcher.json left by a launcher that is gone', { skip: noMonitoringBinaries }, async () => {
    const dataDir = mkdtempSync(join(scratch, 'stale-'));
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    launcherState(dataDir, deadPid, 9464);
    const { code, output } = await runObserve(['--data-dir', dataDir]);
    assert.equal(code, 1, output);
    assert.match(output, /is stale: its launcher \(pid \d+\) is not running/);
    assert.doesNotMatch(output, /scraping/);
  });

  it('scrapes the management ports of the platform running from --data-dir, and every URL it prints answers 200', { skip: noMonitoringBinaries }, async () => {
    const dataDir = mkdtempSync(join(scratch, 'running-'));
    const managementPort = await freePort();
    launcherState(dataDir, process.pid, managementPort);
    const ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()].map(String);
    const printed: string[] = [];
    const { code, output } = await runObserve(
      [
        '--data-dir',
        dataDir,
        '--prometheus-port',
        ports[0]!,
        '--alertmanager-port',
        ports[1]!,
        '--sink-port',
        ports[2]!,
        '--port',
        ports[3]!,
        '--otlp-port',
        ports[4]!,
      ],
      /scraping +gateway=/,
      async (out) => {
        // Followed while observe still runs: Prometheus' classic pages on Debian, the viewer, the OTLP endpoint, the sink.
        for (const url of new Set(out.match(/https?:\/\/[^\s,;)]+/g) ?? [])) {
          const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          printed.push(`${res.status} ${url}`);
        }
      },
    );
    assert.match(output, new RegExp(`scraping +gateway=127\\.0\\.0\\.1:${managementPort}\\b`));
    assert.equal(code, 0, output);
    assert.ok(printed.length >= 7, `expected the viewer, traces, OTLP, Prometheus with two pages, Alertmanager and the sink:\n${printed.join('\n')}`);
    assert.deepEqual(
      printed.filter((p) => !p.startsWith('200 ')),
      [],
      `every printed URL answers 200:\n${printed.join('\n')}`,
    );
    assert.ok(
      printed.some((p) => p.endsWith(`:${ports[3]}`)),
      'the dashboards viewer on --port',
    );
  });
});
