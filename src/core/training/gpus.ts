/**
 * GPUs through nvidia-smi's CSV queries: per-GPU utilisation / memory / temperature / power, and
 * which processes hold memory on which GPU, mapped to runs (a pid belongs to a run when it is in
 * the run's process tree). A machine without nvidia-smi is reported once, not on every poll.
 */
import { execFile } from 'node:child_process';

export const GPU_FIELDS = ['index', 'uuid', 'name', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw'] as const;
export const GPU_ARGS = [`--query-gpu=${GPU_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
export const APPS_ARGS = ['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits'];

export interface GpuStatus {
  index: number;
  uuid: string;
  name: string;
  /** Percent; undefined where nvidia-smi says [N/A] or [Not Supported]. */
  utilization?: number;
  /** MiB. */
  memoryUsed?: number;
  memoryTotal?: number;
  /** °C. */
  temperature?: number;
  /** W. */
  power?: number;
}

export interface GpuProcess {
  pid: number;
  gpuUuid: string;
  gpuIndex?: number;
  /** MiB. */
  usedMemory?: number;
  /** The run whose process tree holds this pid. */
  run?: string;
}

/** "[N/A]", "[Not Supported]", "N/A", "" -> undefined; otherwise a number. */
function num(field: string | undefined): number | undefined {
  if (field === undefined) return undefined;
  const t = field.trim();
  if (!t || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i.test(t)) return undefined;
  const v = Number(t.replace(/\s*(MiB|W|%|C)$/, ''));
  return Number.isFinite(v) ? v : undefined;
}

const rows = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split(/\s*,\s*/));

export function parseGpuCsv(text: string): GpuStatus[] {
  const out: GpuStatus[] = [];
  for (const f of rows(text)) {
    const index = num(f[0]);
    if (index === undefined || f.length < GPU_FIELDS.length) continue;
    // A name with a comma would shift the columns: take the numeric ones from the end.
    const tail = f.slice(-5);
    const g: GpuStatus = { index, uuid: f[1] ?? '', name: f.slice(2, f.length - 5).join(', ') };
    const [util, used, total, temp, power] = tail.map(num);
    if (util !== undefined) g.utilization = util;
    if (used !== undefined) g.memoryUsed = used;
    if (total !== undefined) g.memoryTotal = total;
    if (temp !== undefined) g.temperature = temp;
    if (power !== undefined) g.power = power;
    out.push(g);
  }
  return out;
}

export function parseComputeApps(text: string, gpus: readonly GpuStatus[] = []): GpuProcess[] {
  const byUuid = new Map(gpus.map((g) => [g.uuid, g.index]));
  const out: GpuProcess[] = [];
  for (const f of rows(text)) {
    const pid = num(f[0]);
    if (pid === undefined || !f[1]) continue;
    const p: GpuProcess = { pid, gpuUuid: f[1] };
    const idx = byUuid.get(f[1]);
    if (idx !== undefined) p.gpuIndex = idx;
    const mem = num(f[2]);
    if (mem !== undefined) p.usedMemory = mem;
    out.push(p);
  }
  return out;
}

/**
 * GPUs to offer for a launch: no compute process, utilisation and memory under the thresholds;
 * least used first. Fewer than `count` when not enough are free.
 */
export function suggestFreeGpus(
  gpus: readonly GpuStatus[],
  apps: readonly GpuProcess[],
  count: number,
  o: { maxUtilization?: number; maxMemoryFraction?: number } = {},
): number[] {
  const busy = new Set(apps.map((a) => a.gpuUuid));
  const frac = (g: GpuStatus) => (g.memoryUsed !== undefined && g.memoryTotal ? g.memoryUsed / g.memoryTotal : 0);
  return gpus
    .filter((g) => !busy.has(g.uuid) && (g.utilization ?? 0) <= (o.maxUtilization ?? 10) && frac(g) <= (o.maxMemoryFraction ?? 0.1))
    .sort((a, b) => frac(a) - frac(b) || (a.utilization ?? 0) - (b.utilization ?? 0) || a.index - b.index)
    .slice(0, count)
    .map((g) => g.index);
}

export interface GpuSnapshot {
  time: number;
  gpus: GpuStatus[];
  processes: GpuProcess[];
}

export type GpuMonitorEvent = { kind: 'sample'; snapshot: GpuSnapshot } | { kind: 'unavailable'; message: string };

export interface GpuMonitorOptions {
  /** nvidia-smi binary (default "nvidia-smi" on PATH). */
  command?: string;
  intervalMs?: number;
  /** Which run a pid belongs to, e.g. RunManager.ownerOf. */
  ownerOf?: (pid: number) => string | undefined;
  onEvent: (e: GpuMonitorEvent) => void;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

export class GpuMonitor {
  private timer: NodeJS.Timeout | undefined;
  private unavailable = false;
  private busy = false;

  constructor(private readonly o: GpuMonitorOptions) {}

  /** One poll; undefined when nvidia-smi is missing or failed (reported once). */
  async poll(): Promise<GpuSnapshot | undefined> {
    if (this.unavailable || this.busy) return undefined;
    this.busy = true;
    const cmd = this.o.command ?? 'nvidia-smi';
    try {
      const gpus = parseGpuCsv(await run(cmd, GPU_ARGS));
      const processes = parseComputeApps(await run(cmd, APPS_ARGS), gpus);
      for (const p of processes) {
        const owner = this.o.ownerOf?.(p.pid);
        if (owner) p.run = owner;
      }
      const snapshot = { time: Date.now(), gpus, processes };
      this.o.onEvent({ kind: 'sample', snapshot });
      return snapshot;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      // Missing binary or a driver that does not answer: say so once and stop polling.
      this.unavailable = true;
      this.stop();
      const message =
        err.code === 'ENOENT'
          ? 'nvidia-smi not found: no NVIDIA GPU information on this machine'
          : `nvidia-smi failed: ${(err.message || String(e)).split('\n')[0]}`;
      this.o.onEvent({ kind: 'unavailable', message });
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  start(): this {
    void this.poll();
    this.timer ??= setInterval(() => void this.poll(), this.o.intervalMs ?? 2000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
