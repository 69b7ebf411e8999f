import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findMetricSources, readMetrics, readMetricSource, type MetricsRead } from '../../src/core/training/metric-sources';
import { numberFromText, parseTrainerDictLine, parseVerlLine, SegmentSplitter, StdoutMetrics, type MetricPoint } from '../../src/core/training/metrics';
import { EVAL_STEPS, evalAt, expectedLog, g4, logAt, LOG_STEPS, TRL_NAMES } from './metrics-run';

const FIX = join(__dirname, '../fixtures/trainers/metrics');
const strip = (pts: MetricPoint[]) => pts.map((p) => ({ step: p.step, name: p.name, value: p.value }));
const stdout = (...files: string[]): MetricsRead => ({ sources: [], ...readMetricSource({ kind: 'stdout', files: files.map((f) => join(FIX, f)) }) });

test('values: Python reprs and .4g strings are numbers, nan/inf spelled either way; text is not', () => {
  for (const [t, v] of [['0.0123', 0.0123], ['1e-05', 1e-5], ['8.333e-06', 8.333e-6], ['-3', -3], ['.5', 0.5], ['1.235e+04', 12350], ['inf', Infinity], ['-inf', -Infinity], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    assert.equal(numberFromText(t), v, t);
  }
  assert.ok(Number.isNaN(numberFromText('nan')));
  assert.ok(Number.isNaN(numberFromText('NaN')));
  for (const t of ['', 'abc', '0.1.2', '1e', 'True', 'None', '[String too long to display]', '12 apples']) assert.equal(numberFromText(t), undefined, t);
  const d = parseTrainerDictLine("{'loss': '0.0123', 'learning_rate': '1e-05', 'grad_norm': 'nan', 'kl': '-inf', 'model': 'Qwen', 'flag': True, 'none': None, '__proto__': '2', 'epoch': 0.5}")!;
  assert.deepEqual([...d], [['loss', 0.0123], ['learning_rate', 1e-5], ['grad_norm', NaN], ['kl', -Infinity], ['__proto__', 2], ['epoch', 0.5]]);
  // ms-swift's ProgressCallbackNew / PrinterCallbackNew add the step as text (add_train_message).
  const swift = "{'loss': 0.5, 'global_step/max_steps': '3/100', 'elapsed_time': '30s', 'train_speed(s/it)': 10.0}";
  assert.deepEqual([...parseTrainerDictLine(swift)!], [['step', 3], ['loss', 0.5], ['train_speed(s/it)', 10]]);
  const m = new StdoutMetrics();
  assert.deepEqual(m.push(swift), [{ step: 3, name: 'loss', value: 0.5 }, { step: 3, name: 'train_speed(s/it)', value: 10 }]);
  assert.equal(m.countedSteps, 0);
});

test('new transformers (floats as .4g strings), run folder capture: steps from tqdm.write marks, values, every TRL name', () => {
  const r = stdout('trl-strings/stderr.log', 'trl-strings/stdout.log');
  assert.deepEqual(r.bad, []);
  assert.deepEqual(r.notes, []);
  // stdout was block-buffered: its dicts are not beside their bars, yet each keeps its step.
  assert.deepEqual(strip(r.points), expectedLog(g4));
  const names = new Set(r.points.map((p) => p.name));
  for (const n of [...TRL_NAMES, 'loss', 'grad_norm', 'learning_rate', 'epoch', 'train_runtime', 'train_loss', 'eval_loss', 'eval_reward']) assert.ok(names.has(n), n);
  // The eval bar (nested under the training bar) counts eval batches, never a step.
  assert.deepEqual([...new Set(r.points.filter((p) => p.name.startsWith('eval_')).map((p) => p.step))], EVAL_STEPS);
  const at = (s: number, n: string) => r.points.find((p) => p.step === s && p.name === n)?.value;
  assert.equal(at(2, 'kl'), Infinity, 'kl was inf at step 2');
  assert.ok(Number.isNaN(at(4, 'grad_norm')!), "grad_norm 'nan' at step 4");
  assert.equal(at(2, 'learning_rate'), 8.333e-6, "'8.333e-06'");
  assert.equal(at(10, 'rewards/format_reward/mean'), undefined, 'None (no valid value in the window) is not a point');
  assert.equal(at(4, 'rewards/format_reward/mean'), g4(0.9 - 0.05 * 4), 'the NaN of step 3 left out of the mean');
  assert.equal(r.points.filter((p) => p.name === 'model_name_or_path').length, 0);
});

test('the same run through one unbuffered stream (python -u … 2>&1): same points', () => {
  const r = stdout('trl-strings/combined.log');
  assert.deepEqual(r.bad, []);
  assert.deepEqual(strip(r.points), expectedLog(g4));
});

test('older transformers (raw floats), 2>&1 with stdout block-buffered: the dict cut in two is joined', () => {
  const text = readFileSync(join(FIX, 'trl-floats/combined-buffered.log'), 'utf8');
  const cut = text.split(/\r|\n/).filter((seg) => seg.startsWith("{'") && !seg.endsWith('}'));
  assert.equal(cut.length, 1, 'the fixture does cut one dict at a 4096-byte block boundary');
  const r = stdout('trl-floats/combined-buffered.log');
  assert.deepEqual(r.bad, []);
  assert.deepEqual(strip(r.points), expectedLog((v, name) => (name === 'epoch' ? Math.round(v * 100) / 100 : v)));
});

test('a nested eval bar redrawn before the training bar does not lend its count (tqdm._instances order is a set\'s)', () => {
  const train = ' 50%|█████     | 6/12 [01:01<01:01, 10.20s/it]';
  const evalBar = (n: number) => `${String(Math.round((n / 3) * 100)).padStart(3)}%|          | ${n}/3 [00:0${n}<00:00,  1.20s/it]`;
  const sp = (s: string) => ' '.repeat(s.length);
  // tqdm.display / clear at position 1: down a line ("\n"), draw, back up (ESC[A).
  const err = `\r${train}\n\r${evalBar(3)}\x1b[A` + `\n\r${sp(evalBar(3))}\r\x1b[A\r${sp(train)}\r` + `\n\r${evalBar(3)}\x1b[A\r${train}`;
  const m = new StdoutMetrics();
  const pts = [...new SegmentSplitter(m).write(err), ...new SegmentSplitter(m).write("{'eval_loss': '0.056', 'epoch': '0.5'}\n"), ...m.flush()];
  assert.deepEqual(pts, [{ step: 6, name: 'eval_loss', value: 0.056 }, { step: 6, name: 'epoch', value: 0.5 }]);
  const alone = new StdoutMetrics();
  const fallback = [...new SegmentSplitter(alone).write(`\r${train}\n\r${evalBar(2)}\x1b[A\n`), ...alone.push("{'eval_loss': 0.1}"), ...alone.flush()];
  assert.deepEqual(fallback, [{ step: 6, name: 'eval_loss', value: 0.1 }], 'without marks: the training bar is the newest bar');
});

test('streaming in small pieces (as a live run is followed) gives the same points as whole files', () => {
  for (const files of [['trl-strings/stderr.log', 'trl-strings/stdout.log'], ['trl-strings/combined.log'], ['trl-floats/combined-buffered.log']]) {
    const texts = files.map((f) => readFileSync(join(FIX, f), 'utf8'));
    const m = new StdoutMetrics();
    const splits = texts.map(() => new SegmentSplitter(m));
    const got: MetricPoint[] = [];
    // Stream by stream as RunWatch polls them (stderr first), 7 characters at a time.
    texts.forEach((t, i) => {
      for (let o = 0; o < t.length; o += 7) got.push(...splits[i]!.write(t.slice(o, o + 7)));
    });
    splits.forEach((s) => got.push(...s.end()));
    got.push(...m.flush());
    assert.deepEqual(strip(got), strip(stdout(...files).points), files.join(' + '));
  }
});

test('a dict line cut short is one bad line with its line number; the other lines keep their steps', () => {
  const text = readFileSync(join(FIX, 'trl-strings/combined.log'), 'utf8');
  const at = text.indexOf("{'loss': '0.056'");
  const broken = text.slice(0, at) + "{'loss': '0.056', 'grad_norm': '1.1', 'learn" + text.slice(text.indexOf('\n', at));
  const bad: [string, number | undefined][] = [];
  const m = new StdoutMetrics((e, l) => bad.push([e, l]));
  const s = new SegmentSplitter(m);
  const pts = [...s.write(broken), ...s.end(), ...m.flush()];
  assert.deepEqual(bad, [['a metrics dict cut short (its rest never came)', broken.slice(0, at).split('\n').length]]);
  const trainAt6 = expectedLog(g4).findIndex((p) => p.step === 6);
  const want = expectedLog(g4);
  want.splice(trainAt6, logAt(6).size); // that line's points, and only those (step 6's eval log stays)
  assert.deepEqual(strip(pts), want);
});

test('stdout captured alone (no bars): steps are counts, and the reader says so', () => {
  const r = stdout('trl-strings/stdout.log');
  const lines = LOG_STEPS.length + EVAL_STEPS.length + 1; // train logs, eval logs, the summary
  assert.deepEqual([...new Set(r.points.map((p) => p.step))], Array.from({ length: lines }, (_, i) => i + 1));
  assert.match(r.notes[0]!, new RegExp(`${lines} dict lines had no step .* counts`));
});

test('trainer_state.json from output_dir: the newest checkpoint, full precision, NaN / Infinity / null', () => {
  const found = findMetricSources(join(FIX, 'trl-strings/output'));
  assert.deepEqual(found.sources, [{ kind: 'trainer_state', files: [join(FIX, 'trl-strings/output/checkpoint-12/trainer_state.json')] }]);
  const r = readMetrics(join(FIX, 'trl-strings/output'));
  assert.deepEqual(r.bad, []);
  const want = LOG_STEPS.flatMap((s) => [...logAt(s), ...(EVAL_STEPS.includes(s) ? evalAt(s) : [])].map(([name, value]) => ({ step: s, name, value })));
  const key = (p: { step: number; name: string }) => `${p.step} ${p.name}`;
  // save_to_json sorts keys; compare as sets of (step, name) -> value.
  assert.deepEqual(new Map(r.points.map((p) => [key(p), p.value])), new Map(want.map((p) => [key(p), p.value])));
  const six = readMetrics(join(FIX, 'trl-strings/output/checkpoint-6'));
  assert.deepEqual([...new Set(six.points.map((p) => p.step))], [2, 4, 6], 'checkpoint-6 holds the logs up to step 6');
  assert.equal(r.points.some((p) => p.name === 'train_runtime'), false, 'the summary is logged after the last checkpoint');
});

test('verl console lines: Ray prefix (coloured or not), np.float64 / np.int64, nan, inf; other lines skipped', () => {
  const r = stdout('verl/console.log');
  assert.deepEqual(r.bad, []);
  const steps = [1, 2, 3];
  assert.deepEqual([...new Set(r.points.map((p) => p.step))], steps);
  for (const s of steps) {
    const v = new Map(r.points.filter((p) => p.step === s).map((p) => [p.name, p.value]));
    assert.equal(v.size, 12, `step ${s}: every numbers.Number value, not the text one`);
    assert.equal(v.get('training/global_step'), s);
    assert.equal(v.get('actor/pg_loss'), -0.02 * s);
    assert.equal(v.get('actor/kl_loss'), 0.001 * s);
    assert.equal(v.get('critic/score/mean'), s / 3);
    assert.equal(v.get('response_length/mean'), 150 + s);
    assert.equal(v.get('response_length/clip_ratio'), 0);
    assert.equal(v.get('actor/lr'), 1e-6);
    assert.equal(v.get('timing_s/gen'), 31.25 + s);
    if (s === 2) assert.ok(Number.isNaN(v.get('actor/entropy')!));
    else assert.equal(v.get('actor/entropy'), 1.2 - 0.1 * s);
    assert.equal(v.get('actor/grad_norm'), s === 3 ? Infinity : 0.25 * s);
  }
  assert.equal(parseVerlLine('(TaskRunner pid=7) step:4 - a:1 [repeated 2x across cluster]')?.[0]?.value, 1);
});

test('EasyR1 experiment_log.jsonl: nested names, NaN and Infinity; a bad line named, the rest kept', () => {
  const r = readMetrics(join(FIX, 'easyr1'));
  assert.deepEqual(r.sources, [{ kind: 'easyr1', files: [join(FIX, 'easyr1/experiment_log.jsonl')] }]);
  assert.deepEqual(r.bad, []);
  for (const s of [1, 2, 3]) {
    const v = new Map(r.points.filter((p) => p.step === s).map((p) => [p.name, p.value]));
    assert.deepEqual([...v.keys()], ['actor/kl_loss', 'actor/pg_loss', 'actor/entropy_loss', 'critic/score/mean', 'response_length/mean', 'perf/throughput', 'val/accuracy_reward']);
    assert.equal(v.get('actor/kl_loss'), 0.002 * s);
    assert.ok(s === 2 ? Number.isNaN(v.get('actor/pg_loss')!) : v.get('actor/pg_loss') === -0.01 * s);
    assert.equal(v.get('critic/score/mean'), s / 4);
    assert.equal(v.get('val/accuracy_reward'), s === 3 ? Infinity : 0.5);
  }
  const lines = readFileSync(join(FIX, 'easyr1/experiment_log.jsonl'), 'utf8').trim().split('\n');
  const dir = mkdtempSync(join(tmpdir(), 'easyr1-'));
  try {
    writeFileSync(join(dir, 'experiment_log.jsonl'), [lines[0], '{"step": 2, "actor": {"kl_lo', lines[2], '{"actor": {"kl_loss": 1}}'].join('\n') + '\n');
    const b = readMetrics(dir);
    assert.deepEqual(b.bad.map((x) => [x.line, x.error.split(' ')[0]]), [[2, 'not'], [4, '"step"']]);
    assert.deepEqual([...new Set(b.points.map((p) => p.step))], [1, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
