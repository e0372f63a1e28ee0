/**
 * Small PromQL helpers for tests: the metric names an expression reads, and Grafana's variables
 * replaced by values that keep the expression valid PromQL (so promtool can check it).
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'inf',
  'nan',
  'atan2',
]);

/** Grafana's template variables → concrete values (for validation only). */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?/g, '.*');
}

/** Metric names an expression selects (not functions, keywords, label names or strings). */
export function metricNames(expr: string): string[] {
  let s = expr;
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""'); // strings
  s = s.replace(/\{[^}]*\}/g, ' '); // label matchers
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  s = s.replace(/\boffset\s+-?\d+[smhdwy]/g, ' ');
  const names = new Set<string>();
  const re = /([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const [, word, paren] = m;
    if (!word || paren || KEYWORDS.has(word.toLowerCase())) continue;
    const before = s.slice(0, m.index);
    if (/\d$/.test(before) || /\d+(?:\.\d+)?e?$/i.test(before)) continue; // 4e3, durations like 5m
    names.add(word);
  }
  return [...names].sort();
}
