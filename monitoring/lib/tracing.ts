/**
 * Grafana's side of the tracing component (k8s/components/tracing/grafana-datasources.yaml),
 * generated like k8s/monitoring/ so the component never carries a stale copy of a datasource:
 * - the ConfigMap grafana-datasources as a patch: the Prometheus datasource of
 *   monitoring/grafana/provisioning/datasources/prometheus.yaml with its exemplar link to the traces
 *   datasource, plus that datasource (monitoring/grafana/provisioning/tracing/jaeger.yaml);
 * - Grafana's `checksum/config` for the patched ConfigMaps, so applying (or changing) the component
 *   rolls Grafana out like any config change (docs/deploy.md#config-changes-roll-out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, stringify } from 'yaml';
import { CONFIG_HASH_ANNOTATION, configHash, configMapsUsed } from '@sre/k8s-tools/config-hash';
import { parseManifests } from '@sre/k8s-tools/verify/render';
import { field, type IPodSpec, type K8sObject } from '@sre/k8s-tools/verify/objects';
import { grafanaDir, k8sMonitoringDir, repoRoot } from './paths.js';

export const TRACING_COMPONENT_DIR = join(repoRoot, 'k8s', 'components', 'tracing');
export const TRACING_DATASOURCES_PATCH = join(TRACING_COMPONENT_DIR, 'grafana-datasources.yaml');
export const JAEGER_DATASOURCE_FILE = join(grafanaDir, 'provisioning', 'tracing', 'jaeger.yaml');
/** The label of the services' exemplars that holds the trace id (OpenMetrics exposition). */
export const EXEMPLAR_TRACE_ID_LABEL = 'trace_id';

interface Datasource {
  uid: string;
  type: string;
}

/** The Prometheus datasource file with `exemplarTraceIdDestinations` pointing at `tracesUid`. */
export function withExemplarLink(prometheusYaml: string, tracesUid: string): string {
  const doc = parseDocument(prometheusYaml);
  const list = doc.get('datasources');
  if (!isSeq(list)) throw new Error('datasource file has no datasources list');
  const index = list.items.findIndex((item) => isMap(item) && item.get('type') === 'prometheus');
  if (index < 0) throw new Error('datasource file has no prometheus datasource');
  const destinations = doc.createNode([{ name: EXEMPLAR_TRACE_ID_LABEL, datasourceUid: tracesUid }]);
  destinations.commentBefore = ' Exemplars carry the trace id in label trace_id: each one links to its trace (tracing component).';
  doc.setIn(['datasources', index, 'jsonData', 'exemplarTraceIdDestinations'], destinations);
  return doc.toString({ lineWidth: 0 });
}

/** The content of k8s/components/tracing/grafana-datasources.yaml. */
export function tracingDatasourcesPatch(input: {
  header: string;
  prometheusYaml: string;
  jaegerYaml: string;
  /** The data of every other generated ConfigMap of namespace monitoring, by name (for Grafana's hash). */
  otherConfigMaps: Readonly<Record<string, Record<string, string>>>;
}): string {
  const traces = (parseDocument(input.jaegerYaml).toJS() as { datasources: Datasource[] }).datasources.find((d) => d.type === 'jaeger');
  if (!traces) throw new Error(`${JAEGER_DATASOURCE_FILE} has no jaeger datasource`);
  const data = { 'prometheus.yaml': withExemplarLink(input.prometheusYaml, traces.uid), 'jaeger.yaml': input.jaegerYaml };
  const configMap = (name: string, cmData: Record<string, string>): K8sObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'monitoring' },
    data: cmData,
  });
  // The patch replaces the datasources ConfigMap's keys, so the merged ConfigMap holds `data` exactly.
  const configMaps = [...Object.entries(input.otherConfigMaps).map(([name, d]) => configMap(name, d)), configMap('grafana-datasources', data)];
  const grafanaFile = join(k8sMonitoringDir, 'grafana.yaml');
  const grafana = parseManifests(readFileSync(grafanaFile, 'utf8'), grafanaFile).find((o) => o.kind === 'Deployment' && o.metadata.name === 'grafana');
  const spec = field<IPodSpec>(grafana, 'spec', 'template', 'spec');
  if (!spec) throw new Error(`${grafanaFile} has no Grafana Deployment`);
  const hash = configHash(configMaps, 'monitoring', configMapsUsed(spec));
  const patches = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'grafana-datasources', namespace: 'monitoring' },
      data,
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'grafana', namespace: 'monitoring' },
      spec: { template: { metadata: { annotations: { [CONFIG_HASH_ANNOTATION]: hash } } } },
    },
  ];
  return input.header + patches.map((p) => stringify(p, { lineWidth: 0 })).join('---\n');
}
