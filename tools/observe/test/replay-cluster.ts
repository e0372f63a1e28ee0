import { createServer, type Server } from 'node:http';

/**
 * A replay of what a cluster's Prometheus scrapes and the local platform cannot have: kube-state-
 * metrics, the kubelet (probes, volume stats) and cAdvisor, for two pods in namespace "sre" — one
 * healthy, one crash-looping — served as Prometheus text on /metrics; and on /openmetrics a
 * gateway latency histogram in OpenMetrics with an exemplar carrying `traceId` (what the traced
 * services expose), to follow an exemplar to its trace. Counters grow with time so rate(),
 * increase() and changes() have something to compute (the same approach as
 * tools/drills/test/kubernetes-promql.test.ts).
 */

const line = (name: string, labels: Record<string, string>, value: number) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}} ${value}`;

function clusterExposition(secondsUp: number): string {
  const namespace = 'sre';
  const out: string[] = [];
  const pods = [
    { pod: 'images-service-5c8b-fghij', container: 'images-service', deployment: 'images-service', healthy: true },
    { pod: 'auth-service-7d9f-abcde', container: 'auth-service', deployment: 'auth-service', healthy: false },
  ];
  for (const p of pods) {
    const pod = { namespace, pod: p.pod };
    const container = { ...pod, container: p.container };
    out.push(line('kube_pod_info', { ...pod, node: 'node-a' }, 1));
    out.push(line('kube_pod_status_ready', { ...pod, condition: 'true' }, p.healthy ? 1 : 0));
    out.push(line('kube_pod_status_phase', { ...pod, phase: 'Running' }, 1));
    out.push(line('kube_pod_container_status_restarts_total', container, p.healthy ? 0 : Math.floor(secondsUp / 3)));
    if (!p.healthy) out.push(line('kube_pod_container_status_waiting_reason', { ...container, reason: 'CrashLoopBackOff' }, 1));
    out.push(line('kube_pod_container_status_last_terminated_reason', { ...container, reason: p.healthy ? 'Completed' : 'OOMKilled' }, 1));
    out.push(line('prober_probe_total', { ...container, probe_type: 'Readiness', result: p.healthy ? 'successful' : 'failed' }, secondsUp * 2));
    for (const [resource, request, limit] of [
      ['cpu', 0.1, 0.5],
      ['memory', 128e6, 256e6],
    ] as const) {
      out.push(line('kube_pod_container_resource_requests', { ...container, resource }, request));
      out.push(line('kube_pod_container_resource_limits', { ...container, resource }, limit));
    }
    out.push(line('container_cpu_usage_seconds_total', container, secondsUp * 0.05));
    out.push(line('container_memory_working_set_bytes', container, 90e6));
    out.push(line('container_cpu_cfs_periods_total', container, secondsUp * 10));
    out.push(line('container_cpu_cfs_throttled_periods_total', container, secondsUp * (p.healthy ? 0.1 : 3)));
    out.push(line('kube_deployment_spec_replicas', { namespace, deployment: p.deployment }, 2));
    out.push(line('kube_deployment_status_replicas_available', { namespace, deployment: p.deployment }, p.healthy ? 2 : 1));
  }
  const hpa = { namespace, horizontalpodautoscaler: 'images-service' };
  // The HPA scales between 2 and 3 every few seconds: changes() over 10m has something to count.
  const desired = Math.floor(secondsUp / 4) % 2 === 0 ? 2 : 3;
  out.push(line('kube_horizontalpodautoscaler_status_current_replicas', hpa, desired));
  out.push(line('kube_horizontalpodautoscaler_status_desired_replicas', hpa, desired));
  out.push(line('kube_horizontalpodautoscaler_spec_max_replicas', hpa, 6));
  out.push(line('kube_poddisruptionbudget_status_current_healthy', { namespace, poddisruptionbudget: 'images-service' }, 2));
  out.push(line('kube_poddisruptionbudget_status_desired_healthy', { namespace, poddisruptionbudget: 'images-service' }, 1));
  out.push(line('kubelet_volume_stats_available_bytes', { namespace, persistentvolumeclaim: 'data-postgres-0' }, 6e9));
  out.push(line('kubelet_volume_stats_capacity_bytes', { namespace, persistentvolumeclaim: 'data-postgres-0' }, 10e9));
  return `${out.join('\n')}\n`;
}

function latencyOpenMetrics(secondsUp: number, traceId: string): string {
  const n = Math.floor(secondsUp * 10);
  const labels = 'method="POST",route="/api/images",status_code="201"';
  return [
    '# TYPE http_request_duration_seconds histogram',
    `http_request_duration_seconds_bucket{${labels},le="0.1"} ${n}`,
    `http_request_duration_seconds_bucket{${labels},le="0.5"} ${n * 2} # {trace_id="${traceId}"} 0.3`,
    `http_request_duration_seconds_bucket{${labels},le="+Inf"} ${n * 2}`,
    `http_request_duration_seconds_count{${labels}} ${n * 2}`,
    `http_request_duration_seconds_sum{${labels}} ${n * 0.4}`,
    '# EOF',
    '',
  ].join('\n');
}

export async function startClusterReplay(traceId: string): Promise<{ address: string; close(): Promise<void> }> {
  const started = Date.now();
  const server: Server = createServer((req, res) => {
    const up = (Date.now() - started) / 1000;
    if (req.url === '/openmetrics')
      res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(latencyOpenMetrics(up, traceId));
    else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(clusterExposition(up));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
