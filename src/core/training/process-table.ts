/**
 * Linux process table from /proc. A process is identified by pid AND start time (field 22 of
 * /proc/<pid>/stat, clock ticks since boot), so a pid the kernel reused is never taken for ours.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** R, S, D, Z (zombie), T, … */
  state: string;
  startTicks: number;
  comm: string;
}

/** A process as a run folder records it. */
export interface ProcessId {
  pid: number;
  startTicks: number;
}

/** Parse /proc/<pid>/stat. `comm` may hold spaces and parentheses, so split after the LAST ')'. */
export function parseStat(text: string): ProcessInfo | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): field N is f[N - 3].
  const num = (n: number) => Number(f[n - 3]);
  const info: ProcessInfo = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: num(4),
    pgid: num(5),
    sid: num(6),
    startTicks: num(22),
  };
  return Number.isFinite(info.pid) && Number.isFinite(info.startTicks) ? info : undefined;
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const p = readProcess(Number(n));
    if (p) out.push(p);
  }
  return out;
}

/** Alive means: exists, is not a zombie (it holds no memory), and started when we recorded. */
export function isAlive(id: ProcessId): boolean {
  const p = readProcess(id.pid);
  return !!p && p.state !== 'Z' && p.startTicks === id.startTicks;
}

let ticksPerSecond: number | undefined;
/** Clock ticks per second (sysconf CLK_TCK); Node has no sysconf, so ask getconf once. */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Boot time in ms since the epoch (`btime` in /proc/stat). */
export function bootTimeMs(): number {
  const m = /^btime\s+(\d+)/m.exec(readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) * 1000 : 0;
}

export function startTimeMs(startTicks: number): number {
  return bootTimeMs() + (startTicks * 1000) / clockTicks();
}

/** Whether the process's environment holds NAME=value (inherited even by setsid'd descendants). */
export function hasEnv(pid: number, name: string, value: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${name}=${value}`);
  } catch {
    return false;
  }
}

/**
 * Every live process of a run: descendants of the root (by ppid), members of the root's process
 * group, and processes carrying the run's environment marker — a worker that called setsid and
 * was re-parented to init is found by the marker. `known` accumulates across calls so a process
 * seen once is kept even after its parent died.
 */
export function collectTree(
  root: ProcessId | undefined,
  opts: { marker?: { name: string; value: string }; known?: Map<number, number>; exclude?: ReadonlySet<number> } = {},
): Map<number, number> {
  const known = opts.known ?? new Map<number, number>();
  const table = listProcesses().filter((p) => p.state !== 'Z' && !opts.exclude?.has(p.pid) && p.pid !== process.pid);
  const live = new Map(table.map((p) => [p.pid, p]));
  // Forget entries whose pid died or was reused.
  for (const [pid, ticks] of known) if (live.get(pid)?.startTicks !== ticks) known.delete(pid);
  const rootLive = root && live.get(root.pid)?.startTicks === root.startTicks;
  if (root && rootLive) known.set(root.pid, root.startTicks);
  if (root && rootLive) for (const p of table) if (p.pgid === root.pid) known.set(p.pid, p.startTicks);
  if (opts.marker) {
    for (const p of table) if (!known.has(p.pid) && hasEnv(p.pid, opts.marker.name, opts.marker.value)) known.set(p.pid, p.startTicks);
  }
  // Descendants of anything known, to a fixed point.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!known.has(p.pid) && known.has(p.ppid)) {
        known.set(p.pid, p.startTicks);
        grew = true;
      }
    }
  }
  return known;
}
