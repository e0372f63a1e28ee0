import { namedColor } from '../format.js';
import type { FieldDefaults } from '../types.js';

/** A value's text and colour from the panel's value mappings, else its threshold colour. */
export function mapValue(defaults: FieldDefaults | undefined, value: number): { text?: string; color: string } {
  for (const m of defaults?.mappings ?? []) {
    const hit = m.type === 'value' ? m.options[String(value)] : undefined;
    if (hit) return { text: hit.text, color: namedColor(hit.color) };
  }
  let color = 'green';
  for (const step of defaults?.thresholds?.steps ?? []) if (step.value === null || value >= step.value) color = step.color;
  return { color: namedColor(color) };
}
