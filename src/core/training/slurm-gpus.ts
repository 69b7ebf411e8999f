/**
 * GPUs of a Slurm run's nodes: `srun --jobid=<job> --overlap` runs nvidia-smi inside the job's
 * allocation (one task per node), so it works from a login node where no GPU is. When it does
 * not answer (job not running yet, no nvidia-smi on the nodes, srun refused), the reason is
 * returned in words for the GPU monitor to show. See docs/slurm.md.
 */
import { GPU_ARGS, parseGpuCsv, type GpuStatus } from './gpus';
import { FINISHED, type RunRecord } from './run-folder';
import { slurmExec, type SlurmEnv } from './slurm-cli';

export interface NodeGpus {
  /** Task number of the srun step (one per node, in allocation order). */
  task: number;
  /** The node's name (from `scontrol show hostnames`), else "task N". */
  node: string;
  gpus: GpuStatus[];
}

export type JobGpus = { ok: true; job: string; nodes: string; perNode: NodeGpus[] } | { ok: false; message: string };

export async function jobGpus(rec: RunRecord, o: SlurmEnv & { nvidiaSmi?: string } = {}): Promise<JobGpus> {
  const job = rec.job;
  if (!job) return { ok: false, message: `run ${rec.id} is not a submitted Slurm job` };
  if (FINISHED.includes(rec.status)) return { ok: false, message: `job ${job.jobId} has ended (${job.state ?? rec.status}): no GPUs to show` };
  if (rec.status !== 'running' || !job.nodes) {
    return { ok: false, message: `job ${job.jobId} is ${job.state ?? rec.status}${job.reason ? ` (${job.reason})` : ''}: it has no nodes yet` };
  }
  const id = job.rawId ?? job.jobId;
  const nodes = rec.slurm?.nodes ?? 1;
  const args = [`--jobid=${id}`, '--overlap', `--nodes=${nodes}`, `--ntasks=${nodes}`, '--ntasks-per-node=1', '--label', '--quiet', o.nvidiaSmi ?? 'nvidia-smi', ...GPU_ARGS];
  const r = await slurmExec('srun', args, { ...o, timeoutS: o.timeoutS ?? 20 });
  if (!r.ok) {
    const why = (r.stderr || r.error || '').trim().split('\n').filter(Boolean).slice(-2).join(' ');
    return { ok: false, message: `srun --jobid=${id} --overlap nvidia-smi did not answer on ${job.nodes}: ${why || r.error}` };
  }
  const byTask = new Map<number, string[]>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\d+):\s?(.*)$/.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    byTask.set(t, [...(byTask.get(t) ?? []), m[2]!]);
  }
  // Block distribution, one task per node: task i runs on the i-th host of the allocation.
  const hosts = await slurmExec('scontrol', ['show', 'hostnames', job.nodes], o);
  const names = hosts.ok ? hosts.stdout.split('\n').filter(Boolean) : [];
  const perNode = [...byTask].sort((a, b) => a[0] - b[0]).map(([task, lines]) => ({ task, node: names[task] ?? `task ${task}`, gpus: parseGpuCsv(lines.join('\n')) }));
  if (!perNode.some((n) => n.gpus.length)) return { ok: false, message: `nvidia-smi on ${job.nodes} listed no GPUs (the job asked for ${rec.slurm?.gpusPerNode ?? 0} per node)` };
  return { ok: true, job: id, nodes: job.nodes, perNode };
}
