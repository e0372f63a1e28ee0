/** The parts of Grafana's dashboard JSON (schemaVersion 39) that our dashboards use. */

import type { Exemplar, PromSeries } from './api.js';

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  /** Added by the viewer's server: the cluster-only components the query reads (see src/viewer/dashboards.ts). */
  clusterSources?: string[];
}

export interface Mapping {
  type: string;
  options: Record<string, { text: string; color: string }>;
}

export interface FieldDefaults {
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  mappings?: Mapping[];
  thresholds?: { steps: Array<{ value: number | null; color: string }> };
  custom?: { stacking?: { mode?: string } };
}

export interface Override {
  matcher: { id: string; options: string };
  properties: Array<{ id: string; value: unknown }>;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: { defaults?: FieldDefaults; overrides?: Override[] };
  transformations?: Array<{ id: string }>;
}

export interface Variable {
  name: string;
  label?: string;
  type: string;
  query?: { query: string } | string;
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  panels: Panel[];
  templating?: { list: Variable[] };
  time?: { from: string; to: string };
  refresh?: string;
}

/** What one target of a panel returned. */
export interface TargetResult {
  target: Target;
  series: PromSeries[];
  exemplars: Exemplar[];
}

export interface RenderContext {
  start: number;
  end: number;
  step: number;
}
