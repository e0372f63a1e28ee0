import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GRAFANA_BASE_URL as GRAFANA, runbookBaseUrl } from './links.js';

/** Where the single sources of the monitoring stack live (monitoring/) and what is generated from them. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const monitoringDir = join(repoRoot, 'monitoring');
export const rulesDir = join(monitoringDir, 'rules');
export const prometheusConfigFile = join(monitoringDir, 'prometheus', 'prometheus.yml');
export const alertmanagerConfigFile = join(monitoringDir, 'alertmanager', 'alertmanager.yml');
export const alertmanagerTemplatesDir = join(monitoringDir, 'alertmanager', 'templates');
export const grafanaDir = join(monitoringDir, 'grafana');
export const dashboardsDir = join(grafanaDir, 'dashboards');
export const runbooksDir = join(repoRoot, 'docs', 'runbooks');
export const k8sMonitoringDir = join(repoRoot, 'k8s', 'monitoring');

/**
 * Every alert's runbook_url is this prefix + <AlertName>.md (checked by monitoring/test/rules.test.ts):
 * derived from package.json `repository`, or MONITORING_REPOSITORY_URL (monitoring/lib/links.ts).
 */
export const RUNBOOK_BASE_URL = runbookBaseUrl();
/** Grafana as docs/deploy.md exposes it (kubectl port-forward svc/grafana 3000). */
export const GRAFANA_BASE_URL = GRAFANA;
