/**
 * npm run cluster:forward [-- --context NAME]: Grafana on http://localhost:3000, Prometheus on :9090 and
 * Alertmanager on :9093, through kubectl port-forward (the Services stay ClusterIP; nothing is exposed
 * beyond this machine's loopback). Runs until Ctrl-C; a forward that dies ends the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const FORWARDS = [
  { service: 'grafana', port: 3000 },
  { service: 'prometheus', port: 9090 },
  { service: 'alertmanager', port: 9093 },
] as const;

export function forwardArgs(context: string | undefined): string[][] {
  return FORWARDS.map((f) => [...(context ? ['--context', context] : []), '-n', 'monitoring', 'port-forward', '--address', '127.0.0.1', `svc/${f.service}`, `${f.port}:${f.port}`]);
}

function main(argv: readonly string[]): void {
  const i = argv.indexOf('--context');
  const context = i >= 0 ? argv[i + 1] : undefined;
  const children: ChildProcess[] = forwardArgs(context).map((args) => spawn('kubectl', args, { stdio: 'inherit' }));
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const c of children) c.once('exit', stop);
  console.log(`cluster:forward: ${FORWARDS.map((f) => `${f.service} http://localhost:${f.port}`).join(', ')} (Ctrl-C stops)`);
}

if (process.argv[1]?.endsWith('forward.ts')) main(process.argv.slice(2));
