/**
 * How long a PromQL condition takes to turn true (fire) and to turn false again (resolve) after a
 * step change in its input, read from the expression itself: the range selectors it uses
 * (`rate(x[2m])`, subqueries `[30m:1m]`), followed through the recording rules it reads, and its
 * top-level set operators. A range average needs its whole window to take in a new level (the upper
 * bound when the injected level is above the threshold) and its whole window to forget it.
 *   A and B   fires when both have: max;   resolves when either has: min
 *   A or B    fires when the fastest has: min (the drill's fault is strong enough for it, e.g. a
 *             14.4× burn for the SLO page); resolves when both have: max
 *   A unless B  as A (B may end it sooner; nothing relies on that)
 * Anything deeper (an `and` inside `sum(...)`) counts as one operand with the largest window: an
 * upper bound either way.
 */

import { parseDuration } from '@sre/observe/config';

export interface Windows {
  /** Longest time for the condition to take in a step change (ms). */
  readonly fireMs: number;
  /** Longest time for the condition to forget it (ms). */
  readonly resolveMs: number;
  /** Recording-rule levels between the expression and raw series (each adds an evaluation). */
  readonly depth: number;
}

const RANGE = /\[((?:\d+(?:ms|s|m|h|d|w|y))+)(?::(?:\d+(?:ms|s|m|h|d|w|y))*)?\]/g;

/** Range selectors and subquery ranges of an expression, in ms (strings and label values skipped). */
export function rangeSelectorsMs(expr: string): number[] {
  return [...stripStrings(expr).matchAll(RANGE)].map((m) => parseDuration(m[1] as string));
}

function stripStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/#[^\n]*/g, '');
}

type SetOp = 'and' | 'or' | 'unless';

/** Splits an expression at its top-level set operators: `a and on (x) b or c` → [a, and, b, or, c]. */
export function splitSetOperators(expr: string): { operands: string[]; operators: SetOp[] } {
  let s = stripStrings(expr).trim();
  // Outer parentheses around the whole expression do not change it.
  while (s.startsWith('(') && closingParen(s, 0) === s.length - 1) s = s.slice(1, -1).trim();
  const operands: string[] = [];
  const operators: SetOp[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && /[a-z]/.test(c as string) && (i === 0 || !/[A-Za-z0-9_:]/.test(s[i - 1] as string))) {
      const word = /^(and|or|unless)(?![A-Za-z0-9_:])/.exec(s.slice(i));
      if (word) {
        operands.push(s.slice(start, i).trim());
        operators.push(word[1] as SetOp);
        i += word[1]!.length;
        // Vector matching modifiers belong to the operator: `and on (a, b) group_left (c)`.
        const modifiers = /^\s*(?:(?:on|ignoring|group_left|group_right)\s*(?:\([^)]*\))?\s*)*/.exec(s.slice(i));
        i += modifiers ? modifiers[0].length : 0;
        start = i;
        i--;
      }
    }
  }
  operands.push(s.slice(start).trim());
  return { operands, operators };
}

function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Recording rules by the series name they record. */
export type RecordingRules = ReadonlyMap<string, string>;

function referencedRecords(expr: string, records: RecordingRules): string[] {
  const s = stripStrings(expr);
  return [...records.keys()].filter((name) => new RegExp(`(?<![A-Za-z0-9_:])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_:])`).test(s));
}

/** Fire/resolve windows of an expression, following the recording rules it reads. */
export function expressionWindows(expr: string, records: RecordingRules, seen: ReadonlySet<string> = new Set()): Windows {
  const { operands, operators } = splitSetOperators(expr);
  if (operands.length === 1) return leafWindows(operands[0] as string, records, seen);
  // Left to right, as PromQL binds `and`/`unless` tighter than `or`: group the `and`/`unless` runs first.
  const terms: Windows[] = [];
  // Each operand may itself be a parenthesised set expression: `(a and b) or (c and d)`.
  let current = expressionWindows(operands[0] as string, records, seen);
  for (let i = 0; i < operators.length; i++) {
    const next = expressionWindows(operands[i + 1] as string, records, seen);
    const op = operators[i] as SetOp;
    if (op === 'or') {
      terms.push(current);
      current = next;
    } else if (op === 'and') {
      current = {
        fireMs: Math.max(current.fireMs, next.fireMs),
        resolveMs: Math.min(current.resolveMs, next.resolveMs),
        depth: Math.max(current.depth, next.depth),
      };
    } else {
      current = { ...current, depth: Math.max(current.depth, next.depth) };
    }
  }
  terms.push(current);
  return {
    fireMs: Math.min(...terms.map((t) => t.fireMs)),
    resolveMs: Math.max(...terms.map((t) => t.resolveMs)),
    depth: Math.max(...terms.map((t) => t.depth)),
  };
}

function leafWindows(expr: string, records: RecordingRules, seen: ReadonlySet<string>): Windows {
  const own = Math.max(0, ...rangeSelectorsMs(expr));
  let fireMs = own;
  let resolveMs = own;
  let depth = 0;
  for (const name of referencedRecords(expr, records)) {
    if (seen.has(name)) throw new Error(`recording rule ${name} refers to itself`);
    const inner = expressionWindows(records.get(name) as string, records, new Set([...seen, name]));
    fireMs = Math.max(fireMs, inner.fireMs);
    resolveMs = Math.max(resolveMs, inner.resolveMs);
    depth = Math.max(depth, inner.depth + 1);
  }
  return { fireMs, resolveMs, depth };
}
