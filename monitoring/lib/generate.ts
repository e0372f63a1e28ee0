import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { buildDashboard } from '../grafana/src/builder.js';
import { dashboards } from '../grafana/src/dashboards.js';
import { rewriteRunbookLinks } from './links.js';
import {
  RUNBOOK_BASE_URL,
  alertmanagerConfigFile,
  alertmanagerTemplatesDir,
  dashboardsDir,
  grafanaDir,
  k8sMonitoringDir,
  monitoringDir,
  prometheusConfigFile,
  repoRoot,
  rulesDir,
} from './paths.js';
import { ruleFiles } from './rules.js';
import { SLO_ALERTS_FILE, SLO_RULES_FILE, sloAlertRulesYaml, sloRecordingRulesYaml } from './slo/rules.js';
import { loadSlos } from './slo/schema.js';
import { JAEGER_DATASOURCE_FILE, TRACING_DATASOURCES_PATCH, tracingDatasourcesPatch } from './tracing.js';

/**
 * Everything generated from the monitoring/ sources, as { path relative to the repository: content }:
 * the SLO rules (from monitoring/slos.yaml), the dashboards' JSON and the Kubernetes ConfigMaps of
 * k8s/monitoring/. `npm run monitoring:generate`
 * writes them; monitoring/test/generated.test.ts fails when a committed copy differs.
 */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const rel = (p: string) => relative(repoRoot, p);

  // SLO rules first: the rules ConfigMap below embeds them as generated now, not as last written.
  const slos = loadSlos();
  const sloRules = new Map([
    [join(rulesDir, SLO_RULES_FILE), sloRecordingRulesYaml(slos)],
    [join(rulesDir, SLO_ALERTS_FILE), sloAlertRulesYaml(slos, RUNBOOK_BASE_URL)],
  ]);
  for (const [file, content] of sloRules) files.set(rel(file), content);

  const dashboardJson = new Map<string, string>();
  for (const spec of dashboards) {
    const json = `${JSON.stringify(buildDashboard(spec), null, 2)}\n`;
    dashboardJson.set(`${spec.uid}.json`, json);
    files.set(rel(join(dashboardsDir, `${spec.uid}.json`)), json);
  }

  const read = (p: string) => readFileSync(p, 'utf8');
  const configMap = (name: string, component: string, sources: string[], data: Record<string, string>) =>
    header(sources) +
    stringify(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: 'monitoring',
          labels: { 'app.kubernetes.io/name': component, 'app.kubernetes.io/component': 'monitoring', 'app.kubernetes.io/part-of': 'sre-platform' },
        },
        data,
      },
      { lineWidth: 0 },
    );

  files.set(
    rel(join(k8sMonitoringDir, 'prometheus-config.yaml')),
    configMap('prometheus-config', 'prometheus', [rel(prometheusConfigFile)], { 'prometheus.yml': read(prometheusConfigFile) }),
  );

  const rules = [...new Set([...ruleFiles(), ...sloRules.keys()])].sort();
  const ruleText = (f: string) => sloRules.get(f) ?? linkedText(f);
  files.set(
    rel(join(k8sMonitoringDir, 'prometheus-rules.yaml')),
    configMap('prometheus-rules', 'prometheus', rules.map(rel), Object.fromEntries(rules.map((f) => [basename(f), ruleText(f)]))),
  );

  const templates = readdirSync(alertmanagerTemplatesDir)
    .filter((f) => f.endsWith('.tmpl'))
    .sort();
  files.set(
    rel(join(k8sMonitoringDir, 'alertmanager-config.yaml')),
    configMap('alertmanager-config', 'alertmanager', [rel(alertmanagerConfigFile)], { 'alertmanager.yml': read(alertmanagerConfigFile) }) +
      '---\n' +
      configMap(
        'alertmanager-templates',
        'alertmanager',
        templates.map((t) => rel(join(alertmanagerTemplatesDir, t))),
        Object.fromEntries(templates.map((t) => [t, read(join(alertmanagerTemplatesDir, t))])),
      ),
  );

  const datasources = join(grafanaDir, 'provisioning', 'datasources', 'prometheus.yaml');
  const providers = join(grafanaDir, 'provisioning', 'dashboards', 'sre-platform.yaml');
  files.set(
    rel(join(k8sMonitoringDir, 'grafana-provisioning.yaml')),
    configMap('grafana-datasources', 'grafana', [rel(datasources)], { 'prometheus.yaml': read(datasources) }) +
      '---\n' +
      configMap('grafana-dashboard-providers', 'grafana', [rel(providers)], { 'sre-platform.yaml': read(providers) }),
  );
  files.set(
    rel(join(k8sMonitoringDir, 'grafana-dashboards.yaml')),
    configMap(
      'grafana-dashboards',
      'grafana',
      ['monitoring/grafana/src/dashboards.ts', 'monitoring/grafana/src/slo-dashboard.ts', 'monitoring/slos.yaml'],
      Object.fromEntries(dashboardJson),
    ),
  );
  // The tracing component's Grafana patch: the same datasource file plus the exemplar link and Jaeger.
  files.set(
    rel(TRACING_DATASOURCES_PATCH),
    tracingDatasourcesPatch({
      header: header([rel(datasources), rel(JAEGER_DATASOURCE_FILE)]),
      prometheusYaml: read(datasources),
      jaegerYaml: read(JAEGER_DATASOURCE_FILE),
      otherConfigMaps: { 'grafana-dashboard-providers': { 'sre-platform.yaml': read(providers) }, 'grafana-dashboards': Object.fromEntries(dashboardJson) },
    }),
  );
  return files;
}

/**
 * Hand-written files whose runbook links are derived (monitoring/lib/links.ts): the alert rules and
 * their promtool tests, as { path: content with the links rewritten }. `npm run monitoring:generate`
 * rewrites them in place; monitoring/test/generated.test.ts fails when one is stale.
 */
export function linkedFiles(): Map<string, string> {
  const testsDir = join(monitoringDir, 'test', 'rules');
  const sources = [
    ...ruleFiles().filter((f) => ![SLO_RULES_FILE, SLO_ALERTS_FILE].includes(basename(f))),
    ...readdirSync(testsDir)
      .filter((f) => f.endsWith('.test.yml'))
      .sort()
      .map((f) => join(testsDir, f)),
  ];
  return new Map(sources.map((f) => [relative(repoRoot, f), linkedText(f)]));
}

function linkedText(file: string): string {
  return rewriteRunbookLinks(readFileSync(file, 'utf8'), RUNBOOK_BASE_URL);
}

function header(sources: string[]): string {
  // The embedded files keep their own line lengths (long PromQL, dashboard JSON).
  return `# Generated from ${sources.join(',\n#   ')}\n# by \`npm run monitoring:generate\` — do not edit.\n# yamllint disable rule:line-length\n`;
}
