/**
 * Stopping a run: SIGINT to its process group (trainers save and exit on Ctrl-C), then SIGTERM,
 * then SIGKILL to every process of the tree, each after a grace period. torchrun workers may
 * ignore signals or leave the group (setsid); a worker left alive keeps its GPU memory, so success
 * is reported only when /proc shows no process of the tree left.
 */
import { collectTree, readProcess, type ProcessId } from './process-table';

export type StopStage = 'SIGINT' | 'SIGTERM' | 'SIGKILL';

export interface StopOptions {
  /** Marker env variable every process of the run inherits (see collectTree). */
  marker?: { name: string; value: string };
  /** Pids never signalled (the supervisor that records the exit status). */
  exclude?: ReadonlySet<number>;
  /** Wait after SIGINT before SIGTERM (ms). */
  intGraceMs?: number;
  /** Wait after SIGTERM before SIGKILL (ms). */
  termGraceMs?: number;
  /** Wait after SIGKILL before giving up (ms). */
  killWaitMs?: number;
  pollMs?: number;
  onStage?: (stage: StopStage, alive: number[]) => void;
}

export interface StopResult {
  /** True only when no process of the tree is left. */
  ok: boolean;
  /** The last stage that was needed. */
  stage: StopStage | 'none';
  survivors: number[];
  /** Every process seen in the tree. */
  seen: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone; EPERM: not ours — the survivor check reports it.
  }
}

/** Signal each process not yet signalled at this stage, if its start time still matches (no reused pids). */
function signalEach(known: Map<number, number>, sig: NodeJS.Signals, done: Set<number>): void {
  for (const [pid, ticks] of known) {
    if (done.has(pid)) continue;
    done.add(pid);
    if (readProcess(pid)?.startTicks === ticks) signal(pid, sig);
  }
}

export async function stopTree(root: ProcessId | undefined, opts: StopOptions = {}): Promise<StopResult> {
  const poll = opts.pollMs ?? 100;
  const base = { ...(opts.marker ? { marker: opts.marker } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}) };
  const known = collectTree(root, base);
  const seen = new Set(known.keys());
  const refresh = () => {
    collectTree(root, { ...base, known });
    for (const pid of known.keys()) seen.add(pid);
    return [...known.keys()];
  };
  const waitGone = async (ms: number, stage: StopStage, done: Set<number>) => {
    const end = Date.now() + ms;
    for (;;) {
      const alive = refresh();
      // Children forked during the stage get the same signal.
      if (stage !== 'SIGINT') signalEach(known, stage, done);
      if (alive.length === 0 || Date.now() >= end) return alive;
      await sleep(poll);
    }
  };
  if (known.size === 0) return { ok: true, stage: 'none', survivors: [], seen: [] };

  const stages: [StopStage, number][] = [
    ['SIGINT', opts.intGraceMs ?? 10_000],
    ['SIGTERM', opts.termGraceMs ?? 5_000],
    ['SIGKILL', opts.killWaitMs ?? 5_000],
  ];
  let alive = [...known.keys()];
  for (const [stage, wait] of stages) {
    opts.onStage?.(stage, alive);
    const done = new Set<number>();
    // SIGINT goes to the group, like Ctrl-C in a terminal; later stages hit every process.
    if (stage === 'SIGINT') {
      const r = root ? readProcess(root.pid) : undefined;
      if (root && r && r.startTicks === root.startTicks && r.pgid === root.pid) signal(-root.pid, 'SIGINT');
      else signalEach(known, 'SIGINT', done);
    } else signalEach(known, stage, done);
    alive = await waitGone(wait, stage, done);
    if (alive.length === 0) return { ok: true, stage, survivors: [], seen: [...seen] };
  }
  return { ok: false, stage: 'SIGKILL', survivors: alive, seen: [...seen] };
}
