/**
 * An eval profile run for real: a Python script standing in for a benchmark runner (no model here)
 * reads generated checkpoint folders and writes predictions, each benchmark a run of the training
 * run manager (supervisor, run folder); the matrix computed from the results folder agrees with
 * the answers the script was built to get right; a failing runner, a stop of the whole process
 * tree, two runs' checkpoint-N under one name, and the new-checkpoint watch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { buildMatrix } from '../../src/core/eval/matrix';
import { checkpointRef, parseEvalProfiles, type EvalProfile } from '../../src/core/eval/profiles';
import { candidateCheckpoints, evalManifest, recordCheckpoint } from '../../src/core/eval/results';
import { evaluateCheckpoint } from '../../src/core/eval/runEval';
import { CheckpointWatch } from '../../src/core/eval/watch';
import { isAlive, readProcess, type ProcessId } from '../../src/core/training/process-table';
import { readRun, runDir } from '../../src/core/training/run-folder';
import { RunManager } from '../../src/core/training/run-manager';

const RUNNER = resolve(import.meta.dirname, '../fixtures/eval-runner/bench_runner.py');
const ws = mkdtempSync(join(tmpdir(), 'grpo-eval-run-'));
const manager = new RunManager({ workspace: ws, pollMs: 100 });
after(async () => {
  for (const r of manager.reattach()) if (r.live) await manager.stop(r.id, { intGraceMs: 200, termGraceMs: 200 });
  manager.dispose();
  rmSync(ws, { recursive: true, force: true });
});

const N = 80;
function writeQuestions(): void {
  mkdirSync(join(ws, 'bench'), { recursive: true });
  const letters = ['A', 'B', 'C', 'D'];
  const exam = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `q${i}`, question: `Which? ${i}`, answer: letters[i % 3]!, kind: 'letters' }));
  const pope = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `p${i}`, question: `Is there a dog? ${i}`, answer: i % 2 ? 'yes' : 'no', kind: 'yesno' }));
  writeFileSync(join(ws, 'bench/exam.jsonl'), exam.join('\n') + '\n');
  writeFileSync(join(ws, 'bench/pope.jsonl'), pope.join('\n') + '\n');
}

function writeCheckpoint(dir: string, skill: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ skill, seed }));
}

/** What the stand-in runner gets right, computed here from its rule (not from any metric code). */
function rightShare(skill: number, seed: number, ids: string[]): number {
  const right = ids.filter((id) => createHash('sha256').update(`${seed}:${id}`).digest().readUInt32BE(0) / 2 ** 32 < skill);
  return right.length / ids.length;
}

const command = (questions: string, extra: string[] = []): string[] => ['python3', RUNNER, '--model', '{checkpoint}', '--questions', `bench/${questions}.jsonl`, '--out', '{output}', ...extra];

function profileText(benchmarks: unknown[]): string {
  return JSON.stringify({ profiles: [], evals: [{ name: 'seeds', checkpoints: 'output/grpo', base: 'models/base', benchmarks }] }, null, 2);
}

function profile(benchmarks: unknown[]): EvalProfile {
  const [p] = parseEvalProfiles(profileText(benchmarks), join(ws, '.vscode/grpo-studio.json'), ws);
  assert.ok(p);
  return p;
}

const BENCHMARKS = [
  { id: 'exam', label: 'Exam', metric: 'exam-score', command: command('exam') },
  { id: 'pope', label: 'POPE', metric: 'pope', command: command('pope') },
];

test('each benchmark runs on each checkpoint; the matrix agrees with the runner’s known answers', { timeout: 60_000 }, async () => {
  writeQuestions();
  const ckpts = { base: [0.35, 1], 'checkpoint-100': [0.55, 2], 'checkpoint-200': [0.8, 3] } as const;
  writeCheckpoint(join(ws, 'models/base'), ...ckpts.base);
  writeCheckpoint(join(ws, 'output/grpo/checkpoint-100'), ...ckpts['checkpoint-100']);
  writeCheckpoint(join(ws, 'output/grpo/checkpoint-200'), ...ckpts['checkpoint-200']);
  const p = profile(BENCHMARKS);
  const candidates = candidateCheckpoints(p);
  assert.deepEqual(candidates.map((c) => [c.id, c.step]), [['base', 0], ['checkpoint-100', 100], ['checkpoint-200', 200]]);
  const outputs: string[] = [];
  for (const c of candidates) {
    const outcomes = await evaluateCheckpoint(manager, ws, p, c, { events: { output: (_b, _s, text) => outputs.push(text) } });
    assert.deepEqual(outcomes.map((o) => [o.benchmark, o.status]), [['exam', 'exited'], ['pope', 'exited']], JSON.stringify(outcomes));
    // Each benchmark was a run like a training run: its folder, its recorded command and exit.
    for (const o of outcomes) {
      const rec = readRun(runDir(ws, o.run!));
      assert.equal(rec?.profile, `eval-seeds-${o.benchmark}`);
      assert.equal(rec?.exitCode, 0);
      assert.ok(rec?.argv.includes(c.path));
    }
  }
  assert.ok(outputs.some((t) => t.includes(`${N} questions`)), 'the runner’s stdout reached the listener');
  const m = buildMatrix(evalManifest(p));
  assert.equal(m.base, 'base');
  assert.deepEqual(m.checkpoints.map((c) => [c.id, c.step]), [['base', 0], ['checkpoint-100', 100], ['checkpoint-200', 200]]);
  assert.deepEqual(m.bad, []);
  for (const [id, [skill, seed]] of Object.entries(ckpts)) {
    const exam = rightShare(skill, seed, Array.from({ length: N }, (_, i) => `q${i}`));
    const pope = rightShare(skill, seed, Array.from({ length: N }, (_, i) => `p${i}`));
    assert.equal(m.cells[id]!.exam!.value, exam, `${id} exam`);
    assert.equal(m.cells[id]!.pope!.value, pope, `${id} pope accuracy`);
    assert.equal(m.cells[id]!.exam!.n, N);
    if (id !== 'base') {
      const d = m.cells[id]!.exam!.delta!;
      assert.ok(Math.abs(d.value - (exam - rightShare(0.35, 1, Array.from({ length: N }, (_, i) => `q${i}`)))) < 1e-12);
      assert.equal(d.test, 'mcnemar-exact');
    }
  }
  // The newer checkpoint is clearly better than the base on 80 questions.
  assert.equal(m.cells['checkpoint-200']!.exam!.delta!.significant, true);
});

test('a runner that fails: the outcome says why (its exit and stderr), the next benchmark still runs', { timeout: 30_000 }, async () => {
  const p = profile(BENCHMARKS);
  const broken = join(ws, 'output/grpo/checkpoint-300');
  mkdirSync(broken, { recursive: true }); // no model.json
  const outcomes = await evaluateCheckpoint(manager, ws, p, checkpointRef(p, broken));
  assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'failed']);
  assert.equal(outcomes[0]!.exitCode, 3);
  assert.match(outcomes[0]!.error!, /exit 3: error: .*model\.json not found: not a checkpoint folder/);
  // No predictions, so the matrix has no row for it.
  assert.ok(!buildMatrix(evalManifest(p)).checkpoints.some((c) => c.id === 'checkpoint-300'));
  rmSync(broken, { recursive: true });
});

test('stopping an evaluation stops the whole process tree and skips the benchmarks left', { timeout: 60_000 }, async () => {
  const p = profile([{ id: 'slow', metric: 'exam-score', command: command('exam', ['--sleep', '60']) }, BENCHMARKS[1]]);
  const c = checkpointRef(p, join(ws, 'output/grpo/checkpoint-100'));
  const ac = new AbortController();
  let worker: ProcessId | undefined;
  const outcomes = await evaluateCheckpoint(manager, ws, p, c, {
    signal: ac.signal,
    stopGraceMs: 500,
    events: {
      output: (_b, _s, text) => {
        const w = /worker (\d+)/.exec(text);
        const info = w ? readProcess(Number(w[1])) : undefined;
        if (info) {
          worker = { pid: info.pid, startTicks: info.startTicks };
          ac.abort();
        }
      },
    },
  });
  assert.ok(worker, 'the runner started its worker');
  assert.deepEqual(outcomes.map((o) => [o.benchmark, o.status]), [['slow', 'stopped'], ['pope', 'cancelled']]);
  assert.equal(isAlive(worker!), false, 'the worker child is gone too');
  assert.equal(readRun(runDir(ws, outcomes[0]!.run!))?.status, 'stopped');
  // The slow benchmark wrote nothing.
  assert.equal(existsSync(outcomes[0]!.output), false);
});

test('two runs’ checkpoint-100 under one results name: the second is refused, naming both', () => {
  const p = profile(BENCHMARKS);
  const other = join(ws, 'output/other/checkpoint-100');
  writeCheckpoint(other, 0.5, 9);
  assert.throws(() => recordCheckpoint(p, checkpointRef(p, other)), /results for "checkpoint-100" .* are of .*output\/grpo\/checkpoint-100, not .*output\/other\/checkpoint-100/);
  const rec = JSON.parse(readFileSync(join(p.results, 'checkpoint-100/checkpoint.json'), 'utf8')) as { path: string };
  assert.equal(rec.path, join(ws, 'output/grpo/checkpoint-100'));
});

test('the watch reports a new checkpoint once its files stop changing, and never an old or empty one', () => {
  const runDirPath = join(ws, 'output/watched');
  writeCheckpoint(join(runDirPath, 'checkpoint-10'), 0.5, 1);
  const seen: string[] = [];
  const w = new CheckpointWatch({ folders: [runDirPath], settleMs: 1000, onReady: (c) => seen.push(`${c.step}`) });
  const t0 = Date.now();
  w.poll(t0);
  mkdirSync(join(runDirPath, 'checkpoint-20'));
  w.poll(t0 + 100);
  w.poll(t0 + 5000);
  assert.deepEqual(seen, [], 'an empty folder is a checkpoint still to be written');
  writeFileSync(join(runDirPath, 'checkpoint-20', 'model.json'), '{"skill": 0.5');
  w.poll(t0 + 5100);
  w.poll(t0 + 5500);
  assert.deepEqual(seen, [], 'written 400 ms ago: not settled');
  writeFileSync(join(runDirPath, 'checkpoint-20', 'model.json'), '{"skill": 0.5, "seed": 4}');
  w.poll(t0 + 6000);
  w.poll(t0 + 6900);
  assert.deepEqual(seen, [], 'changed again: the second starts over');
  w.poll(t0 + 7100);
  assert.deepEqual(seen, ['20']);
  w.poll(t0 + 9000);
  assert.deepEqual(seen, ['20'], 'reported once');
});
