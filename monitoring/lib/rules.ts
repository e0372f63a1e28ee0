import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { rulesDir } from './paths.js';

export interface AlertRule {
  readonly file: string;
  readonly group: string;
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface RecordingRule {
  readonly file: string;
  readonly group: string;
  readonly record: string;
  readonly expr: string;
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
}

/** The rule files Prometheus loads (monitoring/rules/*.yml), in a stable order. */
export function ruleFiles(): string[] {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(rulesDir, f));
}

export function loadRules(): { alerts: AlertRule[]; records: RecordingRule[] } {
  const alerts: AlertRule[] = [];
  const records: RecordingRule[] = [];
  for (const file of ruleFiles()) {
    const doc = parse(readFileSync(file, 'utf8')) as RuleFile;
    for (const group of doc.groups) {
      for (const rule of group.rules) {
        if (typeof rule.alert === 'string') {
          alerts.push({
            file,
            group: group.name,
            alert: rule.alert,
            expr: String(rule.expr),
            ...(typeof rule.for === 'string' ? { for: rule.for } : {}),
            labels: (rule.labels ?? {}) as Record<string, string>,
            annotations: (rule.annotations ?? {}) as Record<string, string>,
          });
        } else if (typeof rule.record === 'string') {
          records.push({ file, group: group.name, record: rule.record, expr: String(rule.expr) });
        }
      }
    }
  }
  return { alerts, records };
}

/** Distinct alert names, sorted. */
export function alertNames(): string[] {
  return [...new Set(loadRules().alerts.map((a) => a.alert))].sort();
}
