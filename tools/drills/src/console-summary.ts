/**
 * While a drill breaks things, every service logs one warning or error per failed request, and the
 * launcher echoes each on the console: hundreds of lines per scenario (issue 12). The console gets a
 * summary instead — counts per error class, once per interval:
 *
 *   errors (10 s): images request failed: CHAOS_INJECTED_FAULT ×42, gateway upstream request failed: ECONNREFUSED ×3
 *
 * Every line is still kept in full (the drill's journal takes them, see runner.ts); launcher lines
 * and fatal errors pass through at once, as they are rare and say what the platform did.
 */

/** A service's warning or error as the launcher prints it: "[images#1] ERROR request failed (injected fault)". */
const SERVICE_LINE = /^\[([a-z][a-z0-9-]*)(?:#\d+)?\] (WARN|ERROR) (.*)$/;

/** The class of a summarised line, or undefined for a line that passes through. */
export function errorClass(line: string): string | undefined {
  const m = SERVICE_LINE.exec(line);
  // A fault switched on or off is the drill's own doing, once per toggle: worth seeing as it happens.
  if (!m || /\] WARN chaos fault switched/.test(line)) return undefined;
  const [, service, , text] = m as unknown as [string, string, string, string];
  const detail = /^(.*?) \((.*)\)$/.exec(text);
  const message = (detail ? detail[1] : text) as string;
  if (!detail) return `${service} ${message}`;
  const reason = detail[2] as string;
  // A catalogued code (UPSTREAM_UNAVAILABLE) or a system error (ECONNREFUSED) names the class;
  // otherwise the reason without the numbers that make every line unique (ports, ids, durations).
  const code = /\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|E[A-Z]{4,})\b/.exec(reason)?.[1];
  const shown = code ?? reason.replace(/\d+(\.\d+)*/g, 'N').slice(0, 60);
  return `${service} ${message}: ${shown}`;
}

export interface ConsoleSummaryOptions {
  /** Where summaries and pass-through lines go. */
  print: (line: string) => void;
  intervalMs?: number;
}

export interface ConsoleSummary {
  /** Feed one console line. */
  line(text: string): void;
  /** Print what was counted since the last summary (nothing when nothing was). */
  flush(): void;
  stop(): void;
}

export function summaryLine(counts: ReadonlyMap<string, number>, intervalMs: number): string {
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([cls, n]) => `${cls} ×${n}`);
  return `errors (${Math.round(intervalMs / 1000)} s): ${parts.join(', ')}`;
}

export function startConsoleSummary(options: ConsoleSummaryOptions): ConsoleSummary {
  const intervalMs = options.intervalMs ?? 10_000;
  let counts = new Map<string, number>();
  const flush = () => {
    if (counts.size === 0) return;
    const line = summaryLine(counts, intervalMs);
    counts = new Map();
    options.print(line);
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();
  return {
    line(text) {
      const cls = errorClass(text);
      if (cls === undefined) options.print(text);
      else counts.set(cls, (counts.get(cls) ?? 0) + 1);
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
