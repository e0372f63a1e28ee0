/**
 * npm run cluster:forward [-- --context NAME] [--with-tracing]: Grafana on http://localhost:3000,
 * Prometheus on :9090 and Alertmanager on :9093 (and, with the tracing component, the Jaeger UI on
 * :16686), through kubectl port-forward (the Services stay ClusterIP; nothing is exposed
 * beyond this machine's loopback). Runs until Ctrl-C; a forward that dies ends the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const FORWARDS = [
  { service: 'grafana', port: 3000 },
  { service: 'prometheus', port: 9090 },
  { service: 'alertmanager', port: 9093 },
] as const;

/** Only with k8s/components/tracing applied: a forward to a missing Service would end the others. */
export const TRACING_FORWARDS = [{ service: 'jaeger', port: 16686 }] as const;

export function forwards(withTracing: boolean): readonly { service: string; port: number }[] {
  return [...FORWARDS, ...(withTracing ? TRACING_FORWARDS : [])];
}

export function forwardArgs(context: string | undefined, withTracing = false): string[][] {
  return forwards(withTracing).map((f) => [
    ...(context ? ['--context', context] : []),
    '-n',
    'monitoring',
    'port-forward',
    '--address',
    '127.0.0.1',
    `svc/${f.service}`,
    `${f.port}:${f.port}`,
  ]);
}

function main(argv: readonly string[]): void {
  const i = argv.indexOf('--context');
  const context = i >= 0 ? argv[i + 1] : undefined;
  const withTracing = argv.includes('--with-tracing');
  const children: ChildProcess[] = forwardArgs(context, withTracing).map((args) => spawn('kubectl', args, { stdio: 'inherit' }));
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const c of children) c.once('exit', stop);
  console.log(
    `cluster:forward: ${forwards(withTracing)
      .map((f) => `${f.service} http://localhost:${f.port}`)
      .join(', ')} (Ctrl-C stops)`,
  );
}

if (process.argv[1]?.endsWith('forward.ts')) main(process.argv.slice(2));
