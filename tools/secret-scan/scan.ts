import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * A small secret scanner for the repository's tracked files. Secrets are generated at deploy or test
 * time (k8s:secrets, the launcher's .data/, test fixtures built in memory), so any match is a defect.
 */

export interface SecretRule {
  readonly id: string;
  readonly pattern: RegExp;
}

export const SECRET_RULES: readonly SecretRule[] = [
  { id: 'private-key', pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\s*\n\s*[A-Za-z0-9+/=]{20,}/ },
  { id: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { id: 'slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}/ },
  { id: 'slack-token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { id: 'github-token', pattern: /\b(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{30,}/ },
  { id: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/ },
  {
    id: 'url-with-password',
    pattern: /\b(?:postgres(?:ql)?|mysql|redis|amqp|https?):\/\/[^\s:/@'"]+:(?!\$|\{|<|CHANGE_ME|password@|changeme|\*)[^\s@'"]{8,}@/i,
  },
];

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
}

export function scanText(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  for (const rule of SECRET_RULES) {
    const global = new RegExp(rule.pattern.source, rule.pattern.flags.includes('g') ? rule.pattern.flags : `${rule.pattern.flags}g`);
    for (const match of text.matchAll(global)) {
      findings.push({ file, line: text.slice(0, match.index).split('\n').length, rule: rule.id });
    }
  }
  return findings;
}

/** Tracked and not-ignored untracked files: what a commit would publish. */
export function repositoryFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root });
  return out.toString().split('\0').filter(Boolean);
}

export function scanRepository(root: string): Finding[] {
  const findings: Finding[] = [];
  for (const file of repositoryFiles(root)) {
    let text: string;
    try {
      const buffer = readFileSync(`${root}/${file}`);
      if (buffer.length > 2_000_000 || buffer.includes(0)) continue; // binary or huge: not source
      text = buffer.toString('utf8');
    } catch {
      continue; // deleted in the working tree
    }
    findings.push(...scanText(file, text));
  }
  return findings;
}
