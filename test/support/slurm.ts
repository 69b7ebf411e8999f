/**
 * A real one-node Slurm cluster for the tests (Debian slurm-wlm + munge, see
 * scripts/system-deps.sh). `ensureSlurm()` uses a cluster that already answers `sinfo`; otherwise
 * it starts munged, slurmctld and slurmd (as root) with a small slurm.conf in STATE_DIR and points
 * `SLURM_CONF` at it for this process and its children. Idempotent: every slurm test calls it and
 * the second call finds the first one's cluster. It throws (the test fails, never skips) when no
 * cluster can be started, saying why.
 *
 * Accounting: slurmdbd is not installed, so `AccountingStorageType=accounting_storage/none` and
 * `sacct` answers "accounting storage is disabled". Finished jobs' states come from
 * `squeue --states=all` instead, which lists them until MinJobAge (set to an hour here); see
 * docs/slurm.md for how the product falls back when a job is gone from both.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const STATE_DIR = '/tmp/grpo-studio-slurm';
const CONF = join(STATE_DIR, 'slurm.conf');
const MUNGE_KEY = '/etc/munge/munge.key';

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 }) };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` || err.message };
  }
}

const answers = (env: NodeJS.ProcessEnv) => {
  const r = sh('sinfo', ['-h', '-o', '%T'], env);
  return r.ok && /idle|mix|alloc/.test(r.out);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node line of slurm.conf from `slurmd -C` (this machine's CPUs and memory). */
function nodeLine(): string {
  const r = sh('slurmd', ['-C']);
  const line = r.out.split('\n').find((l) => l.startsWith('NodeName='));
  if (!r.ok || !line) throw new Error(`slurmd -C did not describe this machine: ${r.out.trim()}`);
  // slurmd -C says NodeName=<hostname -s>; memory is lowered a little so slurmd's own check passes.
  return line.replace(/RealMemory=(\d+)/, (_m, mb: string) => `RealMemory=${Math.max(1, Math.floor(Number(mb) * 0.9))}`) + ' State=UNKNOWN';
}

export function slurmConf(): string {
  const host = hostname().split('.')[0]!;
  return [
    'ClusterName=grpostudio',
    `SlurmctldHost=${host}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'MpiDefault=none',
    'MailProg=/bin/true',
    `StateSaveLocation=${STATE_DIR}/state`,
    `SlurmdSpoolDir=${STATE_DIR}/spool`,
    `SlurmctldPidFile=${STATE_DIR}/slurmctld.pid`,
    `SlurmdPidFile=${STATE_DIR}/slurmd.pid`,
    `SlurmctldLogFile=${STATE_DIR}/slurmctld.log`,
    `SlurmdLogFile=${STATE_DIR}/slurmd.log`,
    'SlurmctldPort=6917',
    'SlurmdPort=6918',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${STATE_DIR}/jobcomp.txt`,
    // Tests wait on the scheduler: schedule every second, kill 2 s after the TERM of a time limit.
    'SchedulerParameters=sched_interval=1',
    'MessageTimeout=10',
    'KillWait=2',
    'OverTimeLimit=0',
    // Finished jobs stay visible to `squeue --states=all` for an hour (no accounting here).
    'MinJobAge=3600',
    'ReturnToService=2',
    // Without a default, each job would take the node's whole memory and the next one would wait.
    'DefMemPerCPU=256',
    nodeLine(),
    // Test jobs mostly sleep: up to 4 share a core, so a 2-CPU machine runs several at once.
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4',
    '',
  ].join('\n');
}

function ensureMunge(): void {
  if (sh('sh', ['-c', 'munge -n | unmunge']).ok) return;
  if (!existsSync(MUNGE_KEY)) {
    mkdirSync('/etc/munge', { recursive: true });
    const key = Buffer.alloc(1024);
    randomFillSync(key);
    writeFileSync(MUNGE_KEY, key);
  }
  const uid = Number(sh('id', ['-u', 'munge']).out.trim());
  const gid = Number(sh('id', ['-g', 'munge']).out.trim());
  for (const d of ['/etc/munge', '/var/lib/munge', '/var/log/munge', '/run/munge']) {
    mkdirSync(d, { recursive: true });
    chownSync(d, uid, gid);
  }
  chmodSync('/etc/munge', 0o700);
  chmodSync('/run/munge', 0o755);
  chownSync(MUNGE_KEY, uid, gid);
  chmodSync(MUNGE_KEY, 0o400);
  const r = sh('runuser', ['-u', 'munge', '--', 'munged']);
  if (!r.ok && !/already running|Found pid/i.test(r.out)) throw new Error(`munged did not start: ${r.out.trim()}`);
}

const daemonAlive = (pidFile: string) => {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slurm');
  } catch {
    return false;
  }
};

function startDaemon(bin: 'slurmctld' | 'slurmd'): void {
  const log = join(STATE_DIR, `${bin}.out`);
  const fd = openSync(log, 'a');
  const p = spawn(bin, ['-D', '-f', CONF], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, SLURM_CONF: CONF } });
  p.unref();
}

let ready: Promise<NodeJS.ProcessEnv> | undefined;

/**
 * A cluster that answers; returns the environment to run Slurm commands with (also set on
 * process.env). Throws with the daemons' logs when it cannot start one.
 */
export function ensureSlurm(): Promise<NodeJS.ProcessEnv> {
  ready ??= start();
  return ready;
}

async function start(): Promise<NodeJS.ProcessEnv> {
  if (answers(process.env)) return process.env;
  const env = { ...process.env, SLURM_CONF: CONF };
  if (existsSync(CONF) && answers(env)) {
    process.env.SLURM_CONF = CONF;
    return env;
  }
  for (const bin of ['sbatch', 'slurmctld', 'slurmd', 'munged']) {
    if (!sh('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).ok) {
      throw new Error(`Slurm is not installed (no ${bin}): run bash scripts/system-deps.sh slurm (Debian slurm-wlm, munge)`);
    }
  }
  if (process.getuid?.() !== 0) throw new Error('no Slurm cluster answers sinfo, and starting one needs root (munged, slurmd)');
  for (const d of ['', 'state', 'spool']) mkdirSync(join(STATE_DIR, d), { recursive: true });
  ensureMunge();
  const conf = slurmConf();
  const old = existsSync(CONF) ? readFileSync(CONF, 'utf8') : '';
  if (old !== conf) writeFileSync(CONF, conf);
  if (!daemonAlive(join(STATE_DIR, 'slurmctld.pid'))) startDaemon('slurmctld');
  if (!daemonAlive(join(STATE_DIR, 'slurmd.pid'))) startDaemon('slurmd');
  else if (old !== conf) sh('scontrol', ['reconfigure'], env);
  const end = Date.now() + 30_000;
  while (!answers(env)) {
    if (Date.now() > end) {
      const tail = (f: string) => (existsSync(f) && statSync(f).isFile() ? readFileSync(f, 'utf8').split('\n').slice(-15).join('\n') : '(none)');
      throw new Error(
        `the test Slurm cluster did not answer sinfo within 30 s\nsinfo: ${sh('sinfo', [], env).out}\n` +
          `slurmctld:\n${tail(join(STATE_DIR, 'slurmctld.out'))}\nslurmd:\n${tail(join(STATE_DIR, 'slurmd.out'))}`,
      );
    }
    // A node left DOWN by an earlier run (e.g. the machine rebooted) comes back on request.
    sh('scontrol', ['update', `nodename=${hostname().split('.')[0]}`, 'state=resume'], env);
    await sleep(300);
  }
  process.env.SLURM_CONF = CONF;
  return env;
}
