import { spawnSync } from 'node:child_process';

/**
 * Fails with one message naming every missing command and its Debian package: a reference that
 * cannot run is reported, never silently skipped. `tools/bench/prepare.sh` installs them as root.
 */
export function requireCommands(commandToPackage: Record<string, string>): void {
  const missing = Object.entries(commandToPackage).filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  throw new Error(
    `bench: missing ${missing.map(([c]) => c).join(', ')}; run \`bash tools/bench/prepare.sh\` as root, or \`sudo apt-get install -y ${packages}\``,
  );
}
