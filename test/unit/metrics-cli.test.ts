import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { latestPerStep, readMetrics } from '../../src/core/training/metric-sources';
import type { MetricPoint } from '../../src/core/training/metrics';
import type { RunRecord } from '../../src/core/training/run-folder';
import { RunWatch } from '../../src/core/training/run-watch';
import { EVAL_STEPS, evalAt, expectedLog, g4, logAt, LOG_STEPS, MAX_STEPS, SUMMARY } from './metrics-run';

// The real CLI in a child process, as a user runs it from a checkout (any working directory).
const ROOT = join(__dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const FIX = join(ROOT, 'test/fixtures/trainers/metrics');
function cli(cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), 'metrics', ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** --json lines back to points, checking the NaN / Infinity convention on the way. */
function parse(out: string): MetricPoint[] {
  return out.trim().split('\n').map((l) => {
    const o = JSON.parse(l) as { step: number; name: string; value: number | null; value_text?: string };
    if (o.value !== null) {
      assert.equal(o.value_text, undefined, l);
      return { step: o.step, name: o.name, value: o.value };
    }
    assert.ok(['NaN', 'Infinity', '-Infinity'].includes(o.value_text!), l);
    return { step: o.step, name: o.name, value: Number(o.value_text) };
  });
}

/** As the charts keep them: the last value per (step, name), in step order. */
function perStep(points: MetricPoint[]): MetricPoint[] {
  const m = new Map<string, MetricPoint>();
  for (const p of points) m.set(`${p.step}|${p.name}`, { ...m.get(`${p.step}|${p.name}`), ...p });
  return [...m.values()].sort((a, b) => a.step - b.step);
}

const ID = 'grpo-trl-20250102-030405-beef';
let ws = '';
let run = '';
before(() => {
  ws = mkdtempSync(join(tmpdir(), 'grpo-metrics-'));
  run = join(ws, '.grpo-studio', 'runs', ID);
  mkdirSync(run, { recursive: true });
  for (const f of ['stdout.log', 'stderr.log']) copyFileSync(join(FIX, 'trl-strings', f), join(run, f));
  const plan = { profile: 'grpo-trl', argv: ['python', 'train.py'], shell: false, cwd: ws, env: {}, metrics: { stdout: true, trainerState: join(FIX, 'trl-strings/output') } };
  writeFileSync(join(run, 'launch.json'), JSON.stringify({ ...plan, id: ID, clockTicks: 100, createdAt: '2025-01-02T03:04:05Z', status: 'exited' }));
  writeFileSync(join(ws, 'notes.txt'), 'nothing to see\n{"step": "x"}\n');
});
after(() => rmSync(ws, { recursive: true, force: true }));

test('metrics --json on a captured log: one parseable line per point, NaN and Infinity as null + value_text', () => {
  const r = cli(ws, join(FIX, 'trl-strings/combined.log'), '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const got = parse(r.out);
  assert.deepEqual(got, perStep(expectedLog(g4)));
  assert.match(r.out, /\{"step":2,"name":"kl","value":null,"value_text":"Infinity"\}/);
  assert.match(r.out, /\{"step":4,"name":"grad_norm","value":null,"value_text":"NaN"\}/);
});

test('metrics on a run id (prefix): both streams, then trainer_state.json, whose full-precision values win', () => {
  const r = cli(ws, 'grpo-trl-2025', '--json');
  assert.equal(r.code, 0, r.err);
  const got = new Map(parse(r.out).map((p) => [`${p.step}|${p.name}`, p.value]));
  for (const s of LOG_STEPS) {
    const logged = [...logAt(s), ...(EVAL_STEPS.includes(s) ? evalAt(s) : [])];
    for (const [name, v] of logged) assert.equal(got.get(`${s}|${name}`), v, `${s} ${name}: trainer_state's value`);
  }
  for (const [name, v] of SUMMARY) assert.equal(got.get(`${MAX_STEPS}|${name}`), g4(v), `${name}: only stdout has the summary`);
  assert.equal(got.size, perStep(expectedLog(g4)).length);
  const table = cli(ws, run);
  assert.equal(table.code, 0);
  assert.match(table.out, /^# stdout: .*stderr\.log, .*stdout\.log\n# trainer_state: .*checkpoint-12\/trainer_state\.json\nSTEP +NAME +VALUE\n +2 +loss +0\.016\n/);
  assert.match(table.out, /\n +4 +grad_norm +NaN\n/);
});

test('the Run Metrics panel watcher (RunWatch) reads the run folder to the same points as the CLI', () => {
  const points: MetricPoint[] = [];
  const record = JSON.parse(JSON.stringify({ id: ID, profile: 'grpo-trl', argv: [], shell: false, cwd: ws, env: {}, clockTicks: 100, createdAt: '', status: 'exited', metrics: { stdout: true, trainerState: join(FIX, 'trl-strings/output') } })) as RunRecord;
  const w = new RunWatch(record, run, { output() {}, progress() {}, problem() {}, metrics: (p) => points.push(...p) });
  w.poll();
  w.stop();
  assert.deepEqual(latestPerStep(points), latestPerStep(readMetrics(run).points));
});

test('metrics on other sources: verl log, EasyR1 folder, trainer_state.json file', () => {
  const verl = cli(ws, join(FIX, 'verl/console.log'), '--json');
  assert.equal(verl.code, 0, verl.err);
  const v = parse(verl.out);
  assert.deepEqual([...new Set(v.map((p) => p.step))], [1, 2, 3]);
  assert.equal(v.find((p) => p.step === 3 && p.name === 'actor/grad_norm')?.value, Infinity);
  const easy = cli(ws, join(FIX, 'easyr1'), '--json');
  assert.equal(easy.code, 0, easy.err);
  assert.equal(parse(easy.out).find((p) => p.step === 2 && p.name === 'actor/kl_loss')?.value, 0.004);
  const state = cli(ws, join(FIX, 'trl-strings/output/checkpoint-6/trainer_state.json'), '--json');
  assert.equal(state.code, 0, state.err);
  assert.deepEqual([...new Set(parse(state.out).map((p) => p.step))], [2, 4, 6]);
});

test('errors: no metrics -> exit 1 naming the file; a missing path or bad usage -> exit 2', () => {
  const none = cli(ws, 'notes.txt', '--json');
  assert.equal(none.code, 1);
  assert.equal(none.out, '');
  assert.equal(none.err, `grpo-studio metrics: no metrics in ${join(ws, 'notes.txt')}\n`);
  const empty = cli(ws, ws);
  assert.equal(empty.code, 1);
  assert.match(empty.err, /no metrics source in .*looked for/);
  const missing = cli(ws, 'no-such-file.log');
  assert.equal(missing.code, 2);
  assert.equal(missing.err, `grpo-studio metrics: cannot read ${join(ws, 'no-such-file.log')}: ENOENT\n`);
  const other = join(ws, '.grpo-studio', 'runs', 'grpo-trl-20250103-000000-cafe');
  mkdirSync(other);
  writeFileSync(join(other, 'launch.json'), JSON.stringify({ id: 'grpo-trl-20250103-000000-cafe', profile: 'grpo-trl', metrics: { stdout: true } }));
  const twice = cli(ws, 'grpo-trl-2025');
  assert.equal(twice.code, 2);
  assert.match(twice.err, /^grpo-studio metrics: 'grpo-trl-2025' matches 2 runs: /);
  assert.equal(cli(ws).code, 2);
  assert.equal(cli(ws, 'a', 'b').code, 2);
  assert.equal(cli(ws, 'x', '--csv').code, 2);
  const help = cli(ws, '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: grpo-studio metrics <path \| run> \[--json\]/);
});
