import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory of a process and all its descendants, from /proc (Linux): VmRSS of each process,
 * summed. Shared pages (PostgreSQL's shared buffers, the node binary's text) are counted once per
 * process that maps them, so the sum is an upper bound of what the tree costs the machine.
 */

export interface ProcessMemory {
  pid: number;
  /** A short name: the service entry point, `postgres`, `esbuild`, … */
  name: string;
  rssMb: number;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
}

function parentOf(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  // The command name (2nd field) may hold spaces and parentheses: parse after the last ')'.
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

function nameOf(pid: number): string {
  const argv = (readProc(pid, 'cmdline') ?? '').split('\0').filter(Boolean);
  const script = argv.find((a) => /\.(ts|js|mjs)$/.test(a));
  if (script) return script.replace(/^.*\/(services|tools)\//, '').replace(/\/src\/main\.[jt]s$|\/main\.[jt]s$/, '');
  const name = (argv[0] ?? '?').split('/').at(-1) ?? '?';
  // PostgreSQL backends rename themselves ("postgres: auth 127.0.0.1(5432) idle"): one group.
  return name.startsWith('postgres') ? 'postgres' : name;
}

function rssMbOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readProc(pid, 'status') ?? '');
  return match ? Number(match[1]) / 1024 : 0;
}

export function processTreeMemory(rootPid: number): ProcessMemory[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const result: ProcessMemory[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    result.push({ pid, name: nameOf(pid), rssMb: rssMbOf(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return result;
}

/** `launcher 88, auth 120, postgres ×6 90, …`: processes of one name grouped, largest first. */
export function summarise(processes: readonly ProcessMemory[]): { totalMb: number; breakdown: string } {
  const groups = new Map<string, { count: number; mb: number }>();
  for (const p of processes) {
    const g = groups.get(p.name) ?? { count: 0, mb: 0 };
    groups.set(p.name, { count: g.count + 1, mb: g.mb + p.rssMb });
  }
  const totalMb = Math.round(processes.reduce((sum, p) => sum + p.rssMb, 0));
  const breakdown = [...groups.entries()]
    .sort((a, b) => b[1].mb - a[1].mb)
    .map(([name, g]) => `${name}${g.count > 1 ? ` ×${g.count}` : ''} ${Math.round(g.mb)}`)
    .join(', ');
  return { totalMb, breakdown };
}
