import { execFileSync } from 'node:child_process';

/**
 * Under CI=true nothing is skipped: a missing tool fails the test with a message naming it and how
 * to install it. Elsewhere the test is skipped with the same message.
 */
export function requireTool(name: string, installHint: string): { skip: string | false } {
  if (hasCommand(name)) return { skip: false };
  const message = `'${name}' is not installed (${installHint}); 'npm test' as root installs it`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message}`);
  return { skip: message };
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skip (or, under CI, fail) when an environment variable the test runner sets is missing. */
export function requireEnv(name: string, hint: string): string | undefined {
  const value = process.env[name];
  if (value) return value;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${name} is not set (${hint})`);
  return undefined;
}
