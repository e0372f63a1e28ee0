import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Where alerts link to. Runbooks live in this repository, so their URL is derived from the repository's
 * own address — package.json `repository` — and a fork gets links to its own runbooks after
 * `npm run monitoring:generate` (issue 15, item 16). One setting overrides it:
 *
 *   MONITORING_REPOSITORY_URL=https://github.com/acme/platform npm run monitoring:generate
 *
 * (docs/configuration.md). Grafana is reached through the port-forward of docs/deploy.md.
 */

export const linksEnvSchema = z.object({
  MONITORING_REPOSITORY_URL: z
    .string()
    .trim()
    .regex(/^https:\/\/[^\s/]+\/\S+$/, { error: 'must be the https:// address of the repository, e.g. https://github.com/acme/platform' })
    .optional(),
});

export const GRAFANA_BASE_URL = 'http://localhost:3000';

/** `git+https://host/o/r.git`, `git@host:o/r.git`, `github:o/r` → `https://host/o/r`. */
export function normaliseRepositoryUrl(value: string): string {
  let url = value.trim();
  url = url
    .replace(/^git\+/, '')
    .replace(/^git@([^:]+):/, 'https://$1/')
    .replace(/^github:/, 'https://github.com/');
  url = url.replace(/\.git$/, '').replace(/\/+$/, '');
  if (!/^https:\/\/[^\s/]+\/\S+$/.test(url)) throw new Error(`package.json repository "${value}" is not an https (or git@) repository address`);
  return url;
}

export function repositoryUrl(
  env: Record<string, string | undefined> = process.env,
  packageJsonFile = join(import.meta.dirname, '..', '..', 'package.json'),
): string {
  const parsed = linksEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid monitoring setting: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  if (parsed.data.MONITORING_REPOSITORY_URL) return normaliseRepositoryUrl(parsed.data.MONITORING_REPOSITORY_URL);
  const pkg = JSON.parse(readFileSync(packageJsonFile, 'utf8')) as { repository?: string | { url?: string } };
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (!repo) throw new Error(`${packageJsonFile} has no "repository": add it, or set MONITORING_REPOSITORY_URL`);
  return normaliseRepositoryUrl(repo);
}

/** Every alert's runbook_url is this + <AlertName>.md (monitoring/test/rules.test.ts checks it). */
export function runbookBaseUrl(env: Record<string, string | undefined> = process.env): string {
  return `${repositoryUrl(env)}/blob/main/docs/runbooks/`;
}

/**
 * Rewrites every runbook link of a hand-written rule or promtool test file to `base` (the files
 * Prometheus loads are YAML read as-is, so the derived address is written into them).
 */
export function rewriteRunbookLinks(text: string, base: string): string {
  return text.replace(/(runbook_url:\s*["']?)https?:\/\/[^\s"']*?\/docs\/runbooks\/(?=[A-Za-z0-9]+\.md)/g, `$1${base}`);
}
