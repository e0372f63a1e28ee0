import { labelValues } from './api.js';
import { el } from './dom.js';
import type { Variable } from './types.js';

/**
 * Query variables of the form label_values(<selector>, <label>) — the only kind our dashboards
 * use — with "All" and multi-select. Selections live in the URL as var-<name>=… like Grafana's.
 */

export interface VariableState {
  variable: Variable;
  options: string[];
  /** Empty means All. */
  selected: string[];
}

function definition(v: Variable): { selector: string; label: string } | undefined {
  const text = v.definition ?? (typeof v.query === 'string' ? v.query : v.query?.query) ?? '';
  const m = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(text.trim());
  return m ? { selector: m[1] as string, label: m[2] as string } : undefined;
}

export async function loadVariables(list: Variable[], params: URLSearchParams, start: number, end: number): Promise<VariableState[]> {
  return Promise.all(
    list.map(async (variable) => {
      const def = definition(variable);
      const options = def ? (await labelValues(def.label, def.selector, start, end)).sort() : [];
      const chosen = params.getAll(`var-${variable.name}`).filter((v) => v !== '$__all' && v !== 'All');
      return { variable, options, selected: chosen };
    }),
  );
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces $name and ${name} as Grafana does in a regex matcher (=~): All → allValue, several → (a|b). */
export function interpolate(expr: string, states: VariableState[], builtins: Record<string, string>): string {
  let out = expr;
  for (const [name, value] of Object.entries(builtins)) out = out.split(name).join(value);
  for (const s of states) {
    const value =
      s.selected.length === 0
        ? (s.variable.allValue ?? '.*')
        : s.selected.length === 1
          ? escapeRegex(s.selected[0] as string)
          : `(${s.selected.map(escapeRegex).join('|')})`;
    out = out.replace(new RegExp(`\\$\\{${s.variable.name}\\}|\\$${s.variable.name}\\b`, 'g'), value);
  }
  return out;
}

/** A dropdown of checkboxes per variable; a change calls `onChange` with the new selection. */
export function variableControls(states: VariableState[], onChange: (name: string, selected: string[]) => void): HTMLElement {
  const bar = el('div', { class: 'variables' });
  for (const s of states) {
    const summary = el('summary', {}, `${s.variable.label ?? s.variable.name}: ${s.selected.length === 0 ? 'All' : s.selected.join(', ')}`);
    const box = el('details', { class: 'variable', 'data-variable': s.variable.name }, summary);
    const all = el('input', { type: 'checkbox', value: '$__all' });
    all.checked = s.selected.length === 0;
    all.addEventListener('change', () => onChange(s.variable.name, []));
    box.append(el('label', {}, all, 'All'));
    for (const option of s.options) {
      const input = el('input', { type: 'checkbox', value: option });
      input.checked = s.selected.includes(option);
      input.addEventListener('change', () => onChange(s.variable.name, input.checked ? [...s.selected, option] : s.selected.filter((o) => o !== option)));
      box.append(el('label', {}, input, option));
    }
    bar.append(box);
  }
  return bar;
}
