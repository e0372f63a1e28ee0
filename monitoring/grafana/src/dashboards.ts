import { loadSlos } from '../../lib/slo/schema.js';
import type { DashboardSpec } from './builder.js';
import { sloDashboard } from './slo-dashboard.js';

/**
 * The platform's dashboards (the SLO one is generated from monitoring/slos.yaml, see slo-dashboard.ts). Edit here, then `npm run monitoring:generate` writes
 * monitoring/grafana/dashboards/*.json and the Kubernetes ConfigMap; a test fails when they drift.
 * Every query is checked with promtool and every metric name against what the services,
 * kube-state-metrics, the kubelet and Prometheus really export (monitoring/test/dashboards.test.ts).
 */

const SOURCE = 'monitoring/grafana/src/dashboards.ts';
const svc = 'job="platform", service=~"$service"';
const ns = 'namespace=~"$namespace"';
const RATE = '$__rate_interval';

const circuitMappings = [
  { value: '0', text: 'closed', color: 'green' },
  { value: '1', text: 'open', color: 'red' },
  { value: '2', text: 'half-open', color: 'orange' },
  { value: '3', text: 'isolated', color: 'purple' },
];
const okMappings = [
  { value: '0', text: 'failing', color: 'red' },
  { value: '1', text: 'ok', color: 'green' },
];

const latency = (q: number, by: string, selector: string) =>
  `histogram_quantile(${q}, sum by (${by}, le) (rate(http_request_duration_seconds_bucket{${selector}}[${RATE}])))`;

export const serviceRed: DashboardSpec = {
  uid: 'sre-service-red',
  title: 'Service RED',
  description: "Rate, errors and duration per service and route; the gateway's upstreams and circuit breakers.",
  tags: ['sre-platform', 'services'],
  source: SOURCE,
  variables: [{ name: 'service', label: 'Service', metric: 'up{job="platform"}', labelName: 'service' }],
  rows: [
    {
      title: 'Per service',
      panels: [
        {
          title: 'Request rate',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          queries: [{ expr: `sum by (service) (rate(http_requests_total{${svc}}[${RATE}]))`, legend: '{{service}}' }],
        },
        {
          title: 'Error ratio (5xx)',
          kind: 'timeseries',
          unit: 'percentunit',
          width: 8,
          min: 0,
          thresholds: [
            [null, 'green'],
            [0.05, 'red'],
          ],
          queries: [
            {
              expr: `sum by (service) (rate(http_requests_total{${svc}, status_code=~"5.."}[${RATE}])) / sum by (service) (rate(http_requests_total{${svc}}[${RATE}]))`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Latency p50 / p90 / p99',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          queries: [
            { expr: latency(0.5, 'service', svc), legend: '{{service}} p50' },
            { expr: latency(0.9, 'service', svc), legend: '{{service}} p90' },
            { expr: latency(0.99, 'service', svc), legend: '{{service}} p99' },
          ],
        },
        {
          title: 'Responses by status code',
          kind: 'timeseries',
          unit: 'reqps',
          width: 12,
          stack: true,
          queries: [{ expr: `sum by (service, status_code) (rate(http_requests_total{${svc}}[${RATE}]))`, legend: '{{service}} {{status_code}}' }],
        },
        {
          title: 'Instances up',
          kind: 'timeseries',
          unit: 'short',
          width: 12,
          min: 0,
          queries: [{ expr: `sum by (service) (up{${svc}})`, legend: '{{service}}' }],
        },
      ],
    },
    {
      title: 'Per route',
      panels: [
        {
          title: 'Request rate by route',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          queries: [{ expr: `sum by (service, method, route) (rate(http_requests_total{${svc}}[${RATE}]))`, legend: '{{service}} {{method}} {{route}}' }],
        },
        {
          title: 'Error ratio by route (5xx)',
          kind: 'timeseries',
          unit: 'percentunit',
          width: 8,
          min: 0,
          queries: [
            {
              expr: `sum by (service, method, route) (rate(http_requests_total{${svc}, status_code=~"5.."}[${RATE}])) / sum by (service, method, route) (rate(http_requests_total{${svc}}[${RATE}]))`,
              legend: '{{service}} {{method}} {{route}}',
            },
          ],
        },
        {
          title: 'Latency by route p50 / p90 / p99',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          queries: [
            { expr: latency(0.5, 'service, method, route', svc), legend: '{{service}} {{method}} {{route}} p50' },
            { expr: latency(0.9, 'service, method, route', svc), legend: '{{service}} {{method}} {{route}} p90' },
            { expr: latency(0.99, 'service, method, route', svc), legend: '{{service}} {{method}} {{route}} p99' },
          ],
        },
      ],
    },
    {
      title: 'Gateway upstreams',
      panels: [
        {
          title: 'Upstream requests by status',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: `sum by (upstream, status_code) (rate(gateway_upstream_requests_total{job="platform"}[${RATE}]))`, legend: '{{upstream}} {{status_code}}' },
          ],
        },
        {
          title: 'Upstream latency p99',
          kind: 'timeseries',
          unit: 's',
          width: 8,
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (upstream, le) (rate(gateway_upstream_duration_seconds_bucket{job="platform"}[${RATE}])))`,
              legend: '{{upstream}}',
            },
          ],
        },
        {
          title: 'Circuit state',
          kind: 'state-timeline',
          width: 8,
          mappings: circuitMappings,
          queries: [{ expr: 'max by (pod, upstream) (gateway_circuit_state{job="platform"})', legend: '{{pod}} → {{upstream}}' }],
        },
      ],
    },
  ],
};

export const kubernetes: DashboardSpec = {
  uid: 'sre-kubernetes',
  title: 'Kubernetes',
  description: 'Pods, restarts, readiness, HPA scaling, PDBs, CPU and memory against requests and limits.',
  tags: ['sre-platform', 'kubernetes'],
  source: SOURCE,
  variables: [{ name: 'namespace', label: 'Namespace', metric: 'kube_pod_info', labelName: 'namespace' }],
  rows: [
    {
      title: 'Pods',
      panels: [
        {
          title: 'Container restarts (1h)',
          kind: 'bargauge',
          width: 8,
          queries: [{ expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{${ns}}[1h]))`, legend: '{{pod}}', instant: true }],
        },
        {
          title: 'Pods ready',
          kind: 'state-timeline',
          width: 8,
          mappings: [
            { value: '0', text: 'not ready', color: 'red' },
            { value: '1', text: 'ready', color: 'green' },
          ],
          queries: [{ expr: `max by (pod) (kube_pod_status_ready{${ns}, condition="true"})`, legend: '{{pod}}' }],
        },
        {
          title: 'Containers waiting, by reason',
          kind: 'table',
          width: 8,
          queries: [{ expr: `max by (pod, container, reason) (kube_pod_container_status_waiting_reason{${ns}}) > 0` }],
        },
        {
          title: 'Pod phases',
          kind: 'timeseries',
          width: 12,
          stack: true,
          queries: [{ expr: `sum by (phase) (kube_pod_status_phase{${ns}})`, legend: '{{phase}}' }],
        },
        {
          title: 'Probe failures (kubelet)',
          kind: 'timeseries',
          unit: 'short',
          width: 12,
          queries: [{ expr: `sum by (pod, probe_type) (rate(prober_probe_total{${ns}, result!="successful"}[${RATE}]))`, legend: '{{pod}} {{probe_type}}' }],
        },
        {
          title: 'Last termination reason',
          kind: 'table',
          width: 24,
          height: 6,
          queries: [{ expr: `max by (pod, container, reason) (kube_pod_container_status_last_terminated_reason{${ns}}) > 0` }],
        },
      ],
    },
    {
      title: 'Deployments, HPA, PDB',
      panels: [
        {
          title: 'Deployment replicas: desired / available',
          kind: 'timeseries',
          width: 8,
          queries: [
            { expr: `max by (deployment) (kube_deployment_spec_replicas{${ns}})`, legend: '{{deployment}} desired' },
            { expr: `max by (deployment) (kube_deployment_status_replicas_available{${ns}})`, legend: '{{deployment}} available' },
          ],
        },
        {
          title: 'HPA replicas: current / desired / max',
          kind: 'timeseries',
          width: 8,
          queries: [
            {
              expr: `max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${ns}})`,
              legend: '{{horizontalpodautoscaler}} current',
            },
            {
              expr: `max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_desired_replicas{${ns}})`,
              legend: '{{horizontalpodautoscaler}} desired',
            },
            { expr: `max by (horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${ns}})`, legend: '{{horizontalpodautoscaler}} max' },
          ],
        },
        {
          title: 'HPA scaling events (10m)',
          kind: 'timeseries',
          width: 8,
          description: 'Changes of the desired replica count: each step is a scale-up or scale-down decision.',
          queries: [
            {
              expr: `sum by (horizontalpodautoscaler) (changes(kube_horizontalpodautoscaler_status_desired_replicas{${ns}}[10m]))`,
              legend: '{{horizontalpodautoscaler}}',
            },
          ],
        },
        {
          title: 'PDB healthy / desired',
          kind: 'timeseries',
          width: 12,
          queries: [
            { expr: `max by (poddisruptionbudget) (kube_poddisruptionbudget_status_current_healthy{${ns}})`, legend: '{{poddisruptionbudget}} healthy' },
            { expr: `max by (poddisruptionbudget) (kube_poddisruptionbudget_status_desired_healthy{${ns}})`, legend: '{{poddisruptionbudget}} desired' },
          ],
        },
        {
          title: 'Volumes: free space',
          kind: 'bargauge',
          unit: 'percentunit',
          width: 12,
          min: 0,
          max: 1,
          thresholds: [
            [null, 'red'],
            [0.03, 'orange'],
            [0.15, 'green'],
          ],
          queries: [
            {
              expr: `max by (persistentvolumeclaim) (kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}})`,
              legend: '{{persistentvolumeclaim}}',
              instant: true,
            },
          ],
        },
      ],
    },
    {
      title: 'CPU and memory',
      panels: [
        {
          title: 'CPU: usage vs requests and limits',
          kind: 'timeseries',
          unit: 'cores',
          width: 12,
          queries: [
            { expr: `sum by (pod) (rate(container_cpu_usage_seconds_total{${ns}, container!=""}[${RATE}]))`, legend: '{{pod}} usage' },
            { expr: `sum by (pod) (kube_pod_container_resource_requests{${ns}, resource="cpu"})`, legend: '{{pod}} requests' },
            { expr: `sum by (pod) (kube_pod_container_resource_limits{${ns}, resource="cpu"})`, legend: '{{pod}} limits' },
          ],
        },
        {
          title: 'Memory: working set vs requests and limits',
          kind: 'timeseries',
          unit: 'bytes',
          width: 12,
          queries: [
            { expr: `sum by (pod) (container_memory_working_set_bytes{${ns}, container!=""})`, legend: '{{pod}} working set' },
            { expr: `sum by (pod) (kube_pod_container_resource_requests{${ns}, resource="memory"})`, legend: '{{pod}} requests' },
            { expr: `sum by (pod) (kube_pod_container_resource_limits{${ns}, resource="memory"})`, legend: '{{pod}} limits' },
          ],
        },
        {
          title: 'CPU throttling (share of CFS periods)',
          kind: 'timeseries',
          unit: 'percentunit',
          width: 24,
          min: 0,
          queries: [
            {
              expr: `sum by (pod, container) (increase(container_cpu_cfs_throttled_periods_total{${ns}, container!=""}[5m])) / sum by (pod, container) (increase(container_cpu_cfs_periods_total{${ns}, container!=""}[5m]))`,
              legend: '{{pod}} {{container}}',
            },
          ],
        },
      ],
    },
  ],
};

export const systemHealth: DashboardSpec = {
  uid: 'sre-system-health',
  title: 'System health',
  description: 'One row per service (instances up, ready, error ratio, p99), firing alerts, dependency status.',
  tags: ['sre-platform', 'overview'],
  source: SOURCE,
  variables: [{ name: 'service', label: 'Service', metric: 'up{job="platform"}', labelName: 'service' }],
  rows: [
    {
      title: 'Services',
      panels: [
        {
          title: 'Services at a glance',
          kind: 'table',
          width: 24,
          mergeTable: true,
          overrides: [
            { matcher: { id: 'byName', options: 'Value #A' }, properties: [{ id: 'displayName', value: 'instances up' }] },
            { matcher: { id: 'byName', options: 'Value #B' }, properties: [{ id: 'displayName', value: 'ready (all checks)' }] },
            {
              matcher: { id: 'byName', options: 'Value #C' },
              properties: [
                { id: 'displayName', value: 'error ratio (2m)' },
                { id: 'unit', value: 'percentunit' },
              ],
            },
            {
              matcher: { id: 'byName', options: 'Value #D' },
              properties: [
                { id: 'displayName', value: 'p99 (2m)' },
                { id: 'unit', value: 's' },
              ],
            },
          ],
          queries: [
            { expr: `sum by (service) (up{${svc}})` },
            { expr: `min by (service) (service_health_check_status{${svc}})` },
            { expr: `max by (service) (namespace_service:http_requests_5xx:ratio_rate2m{service=~"$service"})` },
            { expr: `max by (service) (namespace_service:http_request_duration_seconds:p99_2m{service=~"$service"})` },
          ],
        },
      ],
    },
    {
      title: 'Alerts and dependencies',
      panels: [
        {
          title: 'Firing alerts',
          kind: 'table',
          width: 12,
          queries: [{ expr: 'sum by (alertname, severity, service, pod) (ALERTS{alertstate="firing", alertname!="Watchdog"})' }],
        },
        {
          title: 'Readiness checks (dependencies)',
          kind: 'state-timeline',
          width: 12,
          mappings: okMappings,
          queries: [{ expr: `min by (service, check) (service_health_check_status{${svc}})`, legend: '{{service}} {{check}}' }],
        },
        {
          title: 'Gateway circuits',
          kind: 'state-timeline',
          width: 12,
          mappings: circuitMappings,
          queries: [{ expr: 'max by (upstream) (gateway_circuit_state{job="platform"})', legend: '{{upstream}}' }],
        },
        {
          title: 'Instances up',
          kind: 'state-timeline',
          width: 12,
          mappings: [
            { value: '0', text: 'down', color: 'red' },
            { value: '1', text: 'up', color: 'green' },
          ],
          queries: [{ expr: `max by (service, pod) (up{${svc}})`, legend: '{{service}} {{pod}}' }],
        },
        {
          title: 'Process memory (RSS) per instance',
          kind: 'timeseries',
          unit: 'bytes',
          width: 12,
          queries: [{ expr: `max by (service, pod) (process_resident_memory_bytes{${svc}})`, legend: '{{service}} {{pod}}' }],
        },
        {
          title: 'Event-loop lag p99 per instance',
          kind: 'timeseries',
          unit: 's',
          width: 12,
          queries: [{ expr: `max by (service, pod) (nodejs_eventloop_lag_p99_seconds{${svc}})`, legend: '{{service}} {{pod}}' }],
        },
      ],
    },
  ],
};

export const business: DashboardSpec = {
  uid: 'sre-business',
  title: 'Business',
  description: 'Registrations, logins by result, tokens, uploads by result, bytes uploaded and stored.',
  tags: ['sre-platform', 'business'],
  source: SOURCE,
  variables: [{ name: 'service', label: 'Service', metric: 'up{job="platform"}', labelName: 'service' }],
  rows: [
    {
      title: 'Accounts (auth)',
      panels: [
        {
          title: 'Registrations per hour',
          kind: 'timeseries',
          width: 8,
          queries: [{ expr: 'sum(increase(auth_registrations_total{job="platform"}[1h]))', legend: 'registrations' }],
        },
        {
          title: 'Logins by result',
          kind: 'timeseries',
          unit: 'reqps',
          width: 8,
          stack: true,
          queries: [{ expr: `sum by (result) (rate(auth_logins_total{job="platform"}[${RATE}]))`, legend: '{{result}}' }],
        },
        {
          title: 'Tokens issued and refresh-token reuse',
          kind: 'timeseries',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: `sum by (type) (rate(auth_tokens_issued_total{job="platform"}[${RATE}]))`, legend: '{{type}} tokens' },
            { expr: `sum(rate(auth_refresh_reuse_detected_total{job="platform"}[${RATE}]))`, legend: 'reuse detected' },
          ],
        },
      ],
    },
    {
      title: 'Images',
      panels: [
        {
          title: 'Uploads by result',
          kind: 'timeseries',
          unit: 'ops',
          width: 8,
          stack: true,
          queries: [{ expr: `sum by (result) (rate(images_uploads_total{job="platform"}[${RATE}]))`, legend: '{{result}}' }],
        },
        {
          title: 'Bytes uploaded per hour',
          kind: 'timeseries',
          unit: 'bytes',
          width: 8,
          queries: [{ expr: 'sum(increase(images_upload_bytes_sum{job="platform"}[1h]))', legend: 'bytes received' }],
        },
        {
          title: 'Images stored / bytes stored',
          kind: 'stat',
          width: 8,
          description: "Images: the services' own count. Bytes: MinIO's usage (Kubernetes only; the local storage driver has no such metric).",
          queries: [
            { expr: 'max(images_stored{job="platform"})', legend: 'images stored', instant: true },
            { expr: 'max(minio_cluster_usage_total_bytes{job="platform"})', legend: 'bytes stored', instant: true },
          ],
        },
        {
          title: 'Image processing p99 by operation',
          kind: 'timeseries',
          unit: 's',
          width: 12,
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (operation, le) (rate(images_processing_duration_seconds_bucket{job="platform"}[${RATE}])))`,
              legend: '{{operation}}',
            },
          ],
        },
        {
          title: 'Object storage operations p99 by operation and result',
          kind: 'timeseries',
          unit: 's',
          width: 12,
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (operation, result, le) (rate(images_storage_operation_duration_seconds_bucket{job="platform"}[${RATE}])))`,
              legend: '{{operation}} {{result}}',
            },
          ],
        },
      ],
    },
  ],
};

export const dashboards: readonly DashboardSpec[] = [serviceRed, kubernetes, systemHealth, business, sloDashboard(loadSlos())];
