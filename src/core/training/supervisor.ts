/**
 * The run supervisor: a tiny Node program, written into each run folder and started detached
 * (its own session), that spawns the real command in its own process group with stdout/stderr
 * going to files, and records the exit code or signal in run.json. Because it holds no pipe to
 * the editor and is not in the editor's session, it outlives the extension host, so a run
 * started before a window reload still gets its exit status written.
 *
 * It is plain CommonJS kept as text (not bundled) so it runs the same from the extension, the CLI
 * and tests; it is the only writer of run.json while it lives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SUPERVISOR_FILE = 'supervisor.cjs';
/** Every process of a run inherits this variable; it finds workers that escaped the tree. */
export const RUN_MARKER = 'GRPO_STUDIO_RUN_ID';

const SOURCE = String.raw`'use strict';
// GRPO Studio run supervisor (generated). Usage: node supervisor.cjs <run folder>
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const dir = process.argv[2];
const launch = JSON.parse(fs.readFileSync(path.join(dir, 'launch.json'), 'utf8'));
const rec = Object.assign({}, launch, { supervisorPid: process.pid, status: 'starting' });
function stat(pid) {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
  } catch (e) { return undefined; }
}
function bootMs() {
  const m = /^btime\s+(\d+)/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) * 1000 : 0;
}
function save() {
  const tmp = path.join(dir, 'run.json.' + process.pid + '.tmp');
  fs.writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n');
  fs.renameSync(tmp, path.join(dir, 'run.json'));
}
function report(obj) {
  try { process.stdout.write(JSON.stringify(obj) + '\n'); process.stdout.end(); } catch (e) { /* editor gone */ }
}
process.stdout.on('error', function () {});
// The supervisor must outlive terminal hang-ups and stray Ctrl-C; it exits when the command does.
process.on('SIGHUP', function () {});
process.on('SIGINT', function () {});
rec.supervisorStartTicks = stat(process.pid);
const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
const err = fs.openSync(path.join(dir, 'stderr.log'), 'a');
const env = Object.assign({}, process.env, launch.env || {});
delete env.ELECTRON_RUN_AS_NODE;
env.${RUN_MARKER} = launch.id;
let child;
function failed(message) {
  rec.status = 'failed'; rec.error = message; rec.endedAt = new Date().toISOString();
  save(); report({ error: message }); process.exit(0);
}
try {
  child = spawn(launch.argv[0], launch.argv.slice(1), { cwd: launch.cwd, env: env, stdio: ['ignore', out, err], detached: true });
} catch (e) { failed(String(e && e.message || e)); }
child.on('error', function (e) { failed(launch.argv[0] + ': ' + e.message); });
child.on('spawn', function () {
  rec.pid = child.pid; rec.pgid = child.pid; rec.startTicks = stat(child.pid);
  rec.startedAt = new Date(bootMs() + rec.startTicks * 1000 / (launch.clockTicks || 100)).toISOString();
  rec.status = 'running'; save();
  report({ pid: child.pid, startTicks: rec.startTicks });
});
function tail(name) {
  try {
    const file = path.join(dir, name);
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(size, 16384));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    fs.closeSync(fd);
    const lines = buf.toString('utf8').split('\n').map(function (l) { return l.split('\r').filter(Boolean).pop() || ''; });
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-20);
  } catch (e) { return []; }
}
child.on('exit', function (code, signal) {
  rec.lastLines = { stdout: tail('stdout.log'), stderr: tail('stderr.log') };
  rec.exitCode = code; rec.signal = signal; rec.endedAt = new Date().toISOString();
  const stopped = fs.existsSync(path.join(dir, 'stop-requested'));
  rec.status = stopped ? 'stopped' : code === 0 ? 'exited' : 'failed';
  save(); process.exit(0);
});
`;

/** Write the supervisor program into a run folder; returns its path. */
export function writeSupervisor(runDir: string): string {
  const file = join(runDir, SUPERVISOR_FILE);
  writeFileSync(file, SOURCE);
  return file;
}
