import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sre/testkit';
import { renderLocalAlertmanagerConfig } from '../lib/local.js';
import { RUNBOOK_BASE_URL, alertmanagerConfigFile } from '../lib/paths.js';
import { loadRules } from '../lib/rules.js';
import {
  exposedMetricNames,
  externalSection,
  getJson,
  needAlertmanager,
  needAmtool,
  run,
  startAlertmanager,
  startFakeSlack,
  tempDir,
  type ServerProcess,
  type SlackMessage,
} from './helpers.js';

/**
 * Alertmanager: the configuration is valid, each severity reaches its receiver, and — against the real
 * Debian Alertmanager on loopback — inhibition works and Slack receives the JSON we expect (channel,
 * status, severity, summary, affected service/pod, runbook and dashboard links, resolved messages).
 * Only the webhook URL file and the grouping timers differ from the cluster's configuration.
 */

/** An alert as Prometheus would send it: the rule's labels and annotations with the series' labels filled in. */
function alertFromRule(alertname: string, labels: Record<string, string>, times: { startsAt?: Date; endsAt?: Date } = {}) {
  const rule = loadRules().alerts.find((a) => a.alert === alertname);
  assert.ok(rule, `no rule ${alertname}`);
  const fill = (s: string) => s.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? '').replace(/\{\{ \$value[^}]*\}\}/g, '1');
  return {
    labels: { alertname, ...rule.labels, ...labels },
    annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)])),
    // As Prometheus sends it: starting when it fired. (An old startsAt makes Alertmanager flush the group
    // at once, skipping group_wait.)
    startsAt: (times.startsAt ?? new Date()).toISOString(),
    ...(times.endsAt ? { endsAt: times.endsAt.toISOString() } : {}),
    generatorURL: 'http://localhost:9090/graph',
  };
}

describe('Alertmanager configuration (amtool)', () => {
  const dir = tempDir('amtool');
  let config = '';
  before(() => {
    writeFileSync(join(dir.path, 'slack-webhook-url'), 'http://127.0.0.1:9/never-called\n');
    config = join(dir.path, 'alertmanager.yml');
    writeFileSync(config, renderLocalAlertmanagerConfig({ slackWebhookUrlFile: join(dir.path, 'slack-webhook-url') }));
  });
  after(() => dir.remove());

  it('passes amtool check-config, as committed and with its templates loaded', needAmtool(), async () => {
    for (const file of [alertmanagerConfigFile, config]) {
      const result = await run('amtool', ['check-config', file]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /SUCCESS/);
    }
    const loaded = await run('amtool', ['check-config', config]);
    assert.match(loaded.stdout, /1 templates/);
  });

  const routes: Array<[string, string[], string]> = [
    ['critical goes to slack-critical', ['alertname=ServiceDown', 'severity=critical', 'service=auth'], 'slack-critical'],
    ['warning goes to slack-warning', ['alertname=ServiceInstanceDown', 'severity=warning', 'service=auth'], 'slack-warning'],
    // SLO burn-rate alerts: the page (14.4x/1h, 6x/6h) wakes someone, the ticket (3x/1d, 1x/3d) waits for working hours.
    [
      'an SLO page goes to slack-critical',
      ['alertname=SLOAvailabilityBudgetBurn', 'severity=critical', 'service=gateway', 'slo=availability', 'long_window=1h', 'short_window=5m'],
      'slack-critical',
    ],
    [
      'an SLO ticket goes to slack-warning',
      ['alertname=SLOLatencyBudgetBurn', 'severity=warning', 'service=images', 'slo=latency', 'long_window=3d', 'short_window=6h'],
      'slack-warning',
    ],
    ['Watchdog goes to the watchdog route', ['alertname=Watchdog', 'severity=none'], 'watchdog'],
    ['an unknown severity falls back to slack-warning', ['alertname=Something', 'severity=info'], 'slack-warning'],
    ['an alert without severity falls back to slack-warning', ['alertname=Something'], 'slack-warning'],
  ];
  for (const [name, labels, receiver] of routes) {
    it(`routes: ${name}`, needAmtool(), async () => {
      const result = await run('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), receiver);
    });
  }

  it('routes: every severity the rules use has a receiver of its own', needAmtool(), async () => {
    const severities = [...new Set(loadRules().alerts.map((a) => a.labels.severity))];
    for (const severity of severities) {
      const labels = severity === 'none' ? ['alertname=Watchdog', 'severity=none'] : [`severity=${severity}`];
      const result = await run('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels]);
      assert.equal(result.stdout.trim(), severity === 'none' ? 'watchdog' : `slack-${severity}`);
    }
  });
});

describe('Alertmanager delivering to Slack (real prometheus-alertmanager, local Slack-compatible receiver)', () => {
  const dir = tempDir('am');
  let slack: Awaited<ReturnType<typeof startFakeSlack>> | undefined;
  let am: ServerProcess | undefined;

  before(async () => {
    if (needAlertmanager().skip) return;
    slack = await startFakeSlack();
    writeFileSync(join(dir.path, 'slack-webhook-url'), `${slack.url}\n`);
    const config = join(dir.path, 'alertmanager.yml');
    writeFileSync(
      config,
      renderLocalAlertmanagerConfig({
        slackWebhookUrlFile: join(dir.path, 'slack-webhook-url'),
        timers: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
      }),
    );
    am = await startAlertmanager(config, join(dir.path, 'data'));
  });
  after(async () => {
    await am?.stop();
    await slack?.close();
    dir.remove();
  });

  const post = async (alerts: unknown[]) => {
    const res = await fetch(`${am!.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    assert.equal(res.status, 200, await res.text());
  };
  const find = (predicate: (m: SlackMessage) => boolean) => slack!.messages.find(predicate);
  const waitMessage = async (what: string, predicate: (m: SlackMessage) => boolean) => {
    await waitFor(() => find(predicate) !== undefined, { timeoutMs: 20_000, what: `Slack message: ${what}` });
    return find(predicate)!;
  };

  it('inhibits the warnings of a service with a critical alert, and only of that service', needAlertmanager(), async () => {
    // The critical first (as when ServiceDown has fired before the instance warnings reach Alertmanager).
    await post([alertFromRule('ServiceDown', { namespace: 'app', service: 'auth' })]);
    await waitFor(async () => (await getJson<unknown[]>(`${am!.url}/api/v2/alerts?filter=alertname%3D%22ServiceDown%22`)).length === 1, {
      what: 'ServiceDown in Alertmanager',
    });
    await post([
      alertFromRule('ServiceInstanceDown', { namespace: 'app', service: 'auth', pod: 'auth-service-a', instance: '10.0.0.1:9464', job: 'platform' }),
      alertFromRule('ServiceInstanceDown', { namespace: 'app', service: 'images', pod: 'images-service-a', instance: '10.0.0.3:9464', job: 'platform' }),
      // No service label: never inhibited by another service's critical.
      alertFromRule('PrometheusTargetDown', { job: 'kube-state-metrics', instance: 'kube-state-metrics.monitoring.svc:8080' }),
    ]);
    type ApiAlert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    let alerts: ApiAlert[] = [];
    await waitFor(
      async () => {
        alerts = await getJson<ApiAlert[]>(`${am!.url}/api/v2/alerts`);
        return alerts.length === 4 && alerts.some((a) => a.status.state === 'suppressed');
      },
      { timeoutMs: 20_000, what: 'the inhibition to apply' },
    );
    const state = (alertname: string, service?: string) => alerts.find((a) => a.labels.alertname === alertname && a.labels.service === service)?.status;
    assert.equal(state('ServiceInstanceDown', 'auth')?.state, 'suppressed');
    assert.equal(state('ServiceInstanceDown', 'auth')?.inhibitedBy.length, 1);
    assert.equal(state('ServiceInstanceDown', 'images')?.state, 'active');
    assert.equal(state('ServiceDown', 'auth')?.state, 'active');
    assert.equal(state('PrometheusTargetDown')?.state, 'active');

    // Slack gets the critical and the other service's warning; never the inhibited warning.
    await waitMessage('ServiceDown', (m) => /ServiceDown/.test(m.attachments?.[0]?.title ?? ''));
    await waitMessage('images ServiceInstanceDown', (m) => /ServiceInstanceDown · warning · images/.test(m.attachments?.[0]?.title ?? ''));
    await waitMessage('PrometheusTargetDown', (m) => /PrometheusTargetDown/.test(m.attachments?.[0]?.title ?? ''));
    assert.equal(
      find((m) => /ServiceInstanceDown · warning · auth/.test(m.attachments?.[0]?.title ?? '')),
      undefined,
    );
    assert.deepEqual(slack!.rejected, []);
  });

  it('sends a firing message with channel, status, severity, summary, affected service and pod, runbook and dashboard links', needAlertmanager(), async () => {
    await post([
      alertFromRule('KubeContainerConfigError', {
        namespace: 'app',
        service: 'auth',
        pod: 'auth-service-c',
        container: 'auth-service',
        reason: 'CreateContainerConfigError',
      }),
    ]);
    const message = await waitMessage('KubeContainerConfigError firing', (m) => /^\[FIRING:1\] KubeContainerConfigError/.test(m.attachments?.[0]?.title ?? ''));
    assert.equal(message.channel, '#all-sre-project');
    const attachment = message.attachments![0]!;
    assert.equal(attachment.title, '[FIRING:1] KubeContainerConfigError · critical · auth');
    assert.equal(attachment.title_link, `${RUNBOOK_BASE_URL}KubeContainerConfigError.md`);
    assert.equal(attachment.color, 'danger');
    const text = attachment.text ?? '';
    assert.match(text, /^\*FIRING\* · \*critical\* · KubeContainerConfigError: app\/auth-service-c cannot start: CreateContainerConfigError$/m);
    assert.match(text, /^Affected: service `auth` · pod `auth-service-c` · container `auth-service` · namespace `app`$/m);
    assert.match(text, /a Secret, ConfigMap or key it references is missing/);
    assert.ok(text.includes(`<${RUNBOOK_BASE_URL}KubeContainerConfigError.md|Runbook>`), text);
    assert.ok(text.includes('<http://localhost:3000/d/sre-kubernetes/kubernetes?var-namespace=app|Dashboard>'), text);
  });

  it("an SLO page reaches the critical receiver with its burn windows and runbook, and inhibits the same SLO's ticket", needAlertmanager(), async () => {
    const page = alertFromRule('SLOAvailabilityBudgetBurn', { namespace: 'dev', service: 'gateway' });
    const ticket = { ...page, labels: { ...page.labels, severity: 'warning', long_window: '3d', short_window: '6h' } };
    await post([page]);
    await waitFor(async () => (await getJson<unknown[]>(`${am!.url}/api/v2/alerts?filter=alertname%3D%22SLOAvailabilityBudgetBurn%22`)).length === 1, {
      what: 'the page in Alertmanager',
    });
    await post([ticket]);
    const message = await waitMessage('SLO page', (m) => /^\[FIRING:1\] SLOAvailabilityBudgetBurn · critical · gateway$/.test(m.attachments?.[0]?.title ?? ''));
    const attachment = message.attachments![0]!;
    assert.equal((message as { icon_emoji?: string }).icon_emoji, ':rotating_light:');
    assert.equal(attachment.title_link, `${RUNBOOK_BASE_URL}SLOAvailabilityBudgetBurn.md`);
    assert.match(attachment.text ?? '', /^Affected: service `gateway` · SLO `availability` · burn windows `1h`\/`5m` · namespace `dev`$/m);
    assert.ok((attachment.text ?? '').includes('<http://localhost:3000/d/sre-slo/slo?var-service=gateway&var-slo=availability|Dashboard>'), attachment.text);
    type ApiAlert = { labels: Record<string, string>; status: { state: string } };
    await waitFor(
      async () =>
        (await getJson<ApiAlert[]>(`${am!.url}/api/v2/alerts?filter=alertname%3D%22SLOAvailabilityBudgetBurn%22`)).some(
          (a) => a.labels.severity === 'warning' && a.status.state === 'suppressed',
        ),
      { timeoutMs: 20_000, what: 'the ticket inhibited by the page' },
    );
    assert.equal(
      find((m) => /SLOAvailabilityBudgetBurn · warning/.test(m.attachments?.[0]?.title ?? '')),
      undefined,
    );
  });

  it('sends a resolved message when the alert ends', needAlertmanager(), async () => {
    const labels = { namespace: 'app', service: 'images', check: 'storage' };
    const startsAt = new Date();
    await post([alertFromRule('ServiceDependencyDown', labels, { startsAt })]);
    await waitMessage('ServiceDependencyDown firing', (m) => /^\[FIRING:1\] ServiceDependencyDown/.test(m.attachments?.[0]?.title ?? ''));
    await post([alertFromRule('ServiceDependencyDown', labels, { startsAt, endsAt: new Date(Math.max(Date.now(), startsAt.getTime() + 1)) })]);
    const resolved = await waitMessage('ServiceDependencyDown resolved', (m) => /^\[RESOLVED\] ServiceDependencyDown/.test(m.attachments?.[0]?.title ?? ''));
    const attachment = resolved.attachments![0]!;
    assert.equal(resolved.channel, '#all-sre-project');
    assert.equal(attachment.color, 'good');
    assert.match(attachment.text ?? '', /^\*RESOLVED\* · \*critical\* · ServiceDependencyDown: images: dependency storage is down on every instance$/m);
    assert.match(attachment.text ?? '', / · resolved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    assert.ok((attachment.text ?? '').includes(`<${RUNBOOK_BASE_URL}ServiceDependencyDown.md|Runbook>`));
  });

  it('exports the notification metrics the self-monitoring alerts read', needAlertmanager(), async () => {
    const names = exposedMetricNames(await (await fetch(`${am!.url}/metrics`)).text());
    for (const name of externalSection('Alertmanager 0.25 (Debian, tests) and v0.27.0 (cluster): /metrics'))
      assert.ok(names.has(name), `Alertmanager does not export ${name}`);
  });

  it('delivers the Watchdog heartbeat through its own route', needAlertmanager(), async () => {
    await post([alertFromRule('Watchdog', {})]);
    const message = await waitMessage('Watchdog', (m) => /Watchdog/.test(m.attachments?.[0]?.title ?? ''));
    assert.equal(message.channel, '#all-sre-project');
    assert.equal((message as { icon_emoji?: string }).icon_emoji, ':heartbeat:');
    assert.ok((message.attachments?.[0]?.text ?? '').includes(`<${RUNBOOK_BASE_URL}Watchdog.md|Runbook>`));
  });
});
