/** What cluster:up needs on the machine, read from its plan, with how to install each tool. */
import type { Step } from './plan.js';
import { loadVersions } from './versions.js';

export type Which = (tool: string) => boolean;

export function installHints(): Record<string, string> {
  const v = loadVersions();
  return {
    kind: `https://kind.sigs.k8s.io/docs/user/quick-start/#installation (e.g. go install sigs.k8s.io/kind@${v.kind.version}, or brew install kind)`,
    k3d: `https://k3d.io/#installation (e.g. curl -s https://raw.githubusercontent.com/k3d-io/k3d/main/install.sh | TAG=${v.k3d.version} bash)`,
    minikube: `https://minikube.sigs.k8s.io/docs/start/ (${v.minikube.version} or newer)`,
    kubectl: 'https://kubernetes.io/docs/tasks/tools/ (1.27 or newer)',
    docker: 'https://docs.docker.com/engine/install/ (or pass --engine podman)',
    podman: 'https://podman.io/docs/installation (apt-get install podman)',
    openssl: 'apt-get install openssl / brew install openssl (OpenSSL 1.1.1 or newer: Ed25519 keys)',
    bash: 'apt-get install bash',
  };
}

/** Shell built-ins and tools every POSIX system has. */
const ALWAYS_THERE = new Set(['test']);

/** The tools the plan's commands call that `which` cannot find, each with its install hint. */
export function missingTools(steps: readonly Step[], which: Which): { tool: string; install: string }[] {
  const hints = installHints();
  const tools = new Set<string>();
  for (const step of steps) {
    for (const argv of [step.argv, step.unless?.argv]) if (argv?.[0]) tools.add(argv[0]);
    // The secret and TLS scripts run openssl and kubectl themselves.
    if (step.argv?.[0] === 'bash' && step.argv.some((a) => /tools\/k8s\/(secrets|tls)\.sh$/.test(a))) {
      tools.add('openssl');
      tools.add('kubectl');
    }
  }
  return [...tools]
    .filter((t) => !ALWAYS_THERE.has(t) && !which(t))
    .sort()
    .map((tool) => ({ tool, install: hints[tool] ?? 'see docs/deploy.md' }));
}
