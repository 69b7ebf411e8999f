/**
 * grpo-studio run <profile> [--profiles FILE] [--detach] [--gpus 0,1] [--resume]
 * Launches a profile of `.vscode/grpo-studio.json`. With --detach prints one JSON line
 * {"run", "pid"} and leaves the run to its supervisor; otherwise streams its output, stops it on
 * Ctrl-C, and exits 0 when the run exited 0, else 1. A `"target": "slurm"` profile is submitted
 * with sbatch instead: {"run", "job"} per run (one per sweep value), followed the same way.
 */
import { resolve } from 'node:path';
import { loadProfiles, profilesPath } from '../../core/training/profile';
import { RunManager } from '../../core/training/run-manager';
import { jobLine } from '../../core/training/slurm-runs';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio run <profile> [--profiles FILE] [--detach] [--gpus 0,1] [--resume]
  --profiles FILE  profiles file (default .vscode/grpo-studio.json)
  --detach         start and print {"run": id, "pid": pid}; the run keeps going
                   (a Slurm profile: {"run": id, "job": "123"}, one line per sweep value)
  --gpus LIST      GPU indices, overriding the profile's
  --resume         resume from the newest checkpoint-N in the profile's output_dir
`;

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['detach', 'resume', 'help'], options: ['profiles', 'gpus'] });
    if (a.flags.has('help')) {
      io.out(HELP);
      return 0;
    }
    const name = a.positionals[0];
    if (!name || a.positionals.length > 1) throw new UsageError('run needs exactly one profile name');
    const profiles = loadProfiles(resolve(io.cwd, a.options.get('profiles') ?? profilesPath(io.cwd)));
    const profile = profiles.find((p) => p.name === name);
    if (!profile) throw new UsageError(`no profile '${name}' (have: ${profiles.map((p) => p.name).join(', ') || 'none'})`);
    let gpus: number[] | undefined;
    const g = a.options.get('gpus');
    if (g !== undefined) {
      gpus = g.split(',').map(Number);
      if (gpus.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--gpus must be like 0,1 (got '${g}')`);
    }
    if (gpus && profile.target === 'slurm') throw new UsageError(`profile '${name}' runs on Slurm: its GPUs are "slurm": {"gpusPerNode": N}, not --gpus`);
    const slurmPollMs = Number(io.env.GRPO_STUDIO_SLURM_POLL_MS) || undefined;
    const manager = new RunManager({ workspace: io.cwd, env: io.env, ...(slurmPollMs ? { slurmPollMs: Math.max(500, slurmPollMs) } : {}) });
    const detach = a.flags.has('detach');
    if (!detach) manager.on('output', (e) => (e.stream === 'stdout' ? io.out(e.text) : io.err(e.text)));
    try {
      const infos = await manager.launchAll(profile, { profiles, ...(gpus ? { gpus } : {}), ...(a.flags.has('resume') ? { resume: true } : {}) });
      if (detach) {
        for (const info of infos) io.out(JSON.stringify(info.record.job ? { run: info.id, job: info.record.job.jobId } : { run: info.id, pid: info.record.pid }) + '\n');
        return 0;
      }
      for (const info of infos) {
        const where = info.record.job ? `Slurm job ${info.record.job.jobId}, script ${info.record.job.script}` : `pid ${info.record.pid}`;
        io.err(`grpo-studio: run ${info.id} (${where}), output in ${info.dir}\n`);
      }
      return await followToEnd(manager, infos.map((i) => i.id), io);
    } catch (e) {
      io.err(`grpo-studio: ${(e as Error).message}\n`);
      return 1;
    } finally {
      manager.dispose();
    }
  },
};

async function followToEnd(manager: RunManager, ids: string[], io: CliIO): Promise<number> {
  // The run sits in its own process group (or on the cluster), so a terminal's Ctrl-C does not reach it: forward it.
  const onInt = () => ids.forEach((id) => void manager.stop(id));
  process.once('SIGINT', onInt);
  // The manager's timers do not hold the process open (an editor must be able to quit); here we wait.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    const done = new Promise<void>((res) => {
      const check = () => ids.every((id) => !manager.get(id)?.live) && res();
      manager.on('status', (s) => {
        if (s.record.job && ids.includes(s.id) && s.live) io.err(`grpo-studio: ${s.id}: ${jobLine(s.record.job)}\n`);
        check();
      });
      check();
    });
    await done;
    let ok = true;
    for (const id of ids) {
      const rec = manager.get(id)!.record;
      const how = rec.signal ? `${/^signal/.test(rec.signal) ? '' : 'signal '}${rec.signal}` : `exit code ${rec.exitCode}`;
      const job = rec.job ? `, Slurm ${jobLine(rec.job)}` : '';
      io.err(`grpo-studio: run ${id} ${rec.status} (${how}${job})\n`);
      ok &&= rec.status === 'exited' && rec.exitCode === 0;
    }
    return ok ? 0 : 1;
  } finally {
    clearInterval(keepAlive);
    process.removeListener('SIGINT', onInt);
  }
}
