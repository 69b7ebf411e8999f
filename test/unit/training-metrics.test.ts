import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEasyR1Line, parseTrainerDictLine, parseTrainerState, parseVerlLine, StdoutMetrics } from '../../src/core/training/metrics';
import { scanOutput } from '../../src/core/training/output-scanner';
import { lastProgress, parseProgress } from '../../src/core/training/progress';
import { parsePythonLiteral } from '../../src/core/training/python-literal';

test('tqdm: it/s, s/it, hours, unknown rate and postfix; carriage-return redraws', () => {
  assert.deepEqual(parseProgress(' 2%|▏         | 12/500 [00:10<06:40,  1.20it/s]'), { step: 12, total: 500, elapsed: 10, eta: 400, rate: 1.2 });
  assert.deepEqual(parseProgress('Training:  40%|████      | 200/500 [1:02:03<1:33:04,  4.00s/it, loss=0.31]'), {
    step: 200, total: 500, elapsed: 3723, eta: 5584, rate: 0.25,
  });
  assert.deepEqual(parseProgress('  0%|          | 0/500 [00:00<?, ?it/s]'), { step: 0, total: 500, elapsed: 0 });
  assert.equal(parseProgress("{'loss': 0.1}"), undefined);
  const chunk = '\r  1%|          | 5/500 [00:05<08:15,  1.00it/s]\r  1%|          | 6/500 [00:06<08:14,  1.00it/s]\r  1%|▏ | 7/500 [00:07<04:06,  2.00it/s]';
  assert.deepEqual(lastProgress(chunk), { step: 7, total: 500, elapsed: 7, eta: 246, rate: 2 });
});

test('Python dict repr: quotes, nan, inf, -inf, True/False/None, scientific numbers', () => {
  assert.deepEqual(parsePythonLiteral(`{'a': 'it\\'s', "b": [1, (2, 3e-05)], 'c': None, 'd': True, 'e': -inf, 'f': 1E+3}`), {
    a: "it's", b: [1, [2, 3e-5]], c: null, d: true, e: -Infinity, f: 1000,
  });
  const line =
    "{'loss': 0.0123, 'grad_norm': nan, 'learning_rate': 9.5e-06, 'rewards/accuracy_reward': 0.75, 'rewards/format_reward': 0.5, 'reward': 1.25, 'reward_std': 0.433, 'kl': inf, 'completion_length': 187.25, 'clip_ratio': -inf, 'is_best': False, 'note': None, 'epoch': 0.02}";
  const d = parseTrainerDictLine(line)!;
  assert.equal(d.get('loss'), 0.0123);
  assert.ok(Number.isNaN(d.get('grad_norm')));
  assert.equal(d.get('learning_rate'), 9.5e-6);
  assert.equal(d.get('rewards/accuracy_reward'), 0.75);
  assert.equal(d.get('kl'), Infinity);
  assert.equal(d.get('clip_ratio'), -Infinity);
  assert.equal(d.has('is_best'), false, 'booleans are not metrics');
  assert.equal(d.has('note'), false);
  assert.equal(d.size, 11);
  assert.deepEqual(parseTrainerDictLine("[rank0]: {'loss': 1.5, 'epoch': 1.0}"), new Map([['loss', 1.5], ['epoch', 1]]));
  assert.equal(parseTrainerDictLine('{not python}'), undefined);
  assert.equal(parseTrainerDictLine('plain text'), undefined);
});

test('stdout metrics take the step from the newest tqdm line, else count dict lines', () => {
  const m = new StdoutMetrics();
  assert.deepEqual(m.push("{'loss': 0.5}"), [{ step: 1, name: 'loss', value: 0.5 }]);
  m.push(' 10%|█         | 20/200 [00:20<03:00,  1.00it/s]');
  assert.deepEqual(m.push("{'loss': 0.25, 'reward': 1.5}"), [
    { step: 20, name: 'loss', value: 0.25 },
    { step: 20, name: 'reward', value: 1.5 },
  ]);
  assert.deepEqual(m.push("{'step': 40, 'kl': 0.001}"), [{ step: 40, name: 'kl', value: 0.001 }]);
});

test('verl console lines', () => {
  const pts = parseVerlLine('step:12 - actor/kl_loss:0.001 - actor/pg_loss:-0.0325 - critic/score/mean:0.5 - response_length/mean:211.25 - timing_s/gen:3.2e+01 - val/x:np.float64(0.75) - actor/entropy:nan');
  assert.deepEqual(pts?.slice(0, 6), [
    { step: 12, name: 'actor/kl_loss', value: 0.001 },
    { step: 12, name: 'actor/pg_loss', value: -0.0325 },
    { step: 12, name: 'critic/score/mean', value: 0.5 },
    { step: 12, name: 'response_length/mean', value: 211.25 },
    { step: 12, name: 'timing_s/gen', value: 32 },
    { step: 12, name: 'val/x', value: 0.75 },
  ]);
  assert.ok(Number.isNaN(pts![6]!.value));
  assert.equal(pts!.length, 7);
  assert.equal(parseVerlLine('no metrics here'), undefined);
});

test('trainer_state.json log_history (with Python json NaN / Infinity)', () => {
  const text = `{
  "best_metric": null, "global_step": 20,
  "log_history": [
    {"epoch": 0.1, "grad_norm": NaN, "learning_rate": 1e-05, "loss": 0.02, "reward": 1.5, "step": 10},
    {"epoch": 0.2, "kl": Infinity, "loss": -Infinity, "step": 20},
    {"train_runtime": 100.5, "step": 20, "total_flos": 0.0}
  ]
}`;
  const pts = parseTrainerState(text);
  const byKey = new Map(pts.map((p) => [`${p.step}:${p.name}`, p.value]));
  assert.equal(pts.length, 10);
  assert.ok(Number.isNaN(byKey.get('10:grad_norm')));
  assert.equal(byKey.get('10:learning_rate'), 1e-5);
  assert.equal(byKey.get('20:kl'), Infinity);
  assert.equal(byKey.get('20:loss'), -Infinity);
  assert.equal(byKey.get('20:train_runtime'), 100.5);
  assert.throws(() => parseTrainerState('{"x": 1}'), /log_history/);
});

test('EasyR1 experiment_log.jsonl lines flatten nested groups', () => {
  const pts = parseEasyR1Line('{"step": 3, "actor": {"kl_loss": 0.002, "lr": 1e-06}, "reward": {"overall": 0.625, "accuracy": 0.5}, "val": {"acc": NaN}, "tag": "x"}');
  assert.deepEqual(pts.slice(0, 4), [
    { step: 3, name: 'actor/kl_loss', value: 0.002 },
    { step: 3, name: 'actor/lr', value: 1e-6 },
    { step: 3, name: 'reward/overall', value: 0.625 },
    { step: 3, name: 'reward/accuracy', value: 0.5 },
  ]);
  assert.equal(pts[4]!.name, 'val/acc');
  assert.ok(Number.isNaN(pts[4]!.value));
  assert.equal(pts.length, 5);
  assert.deepEqual(parseEasyR1Line('{"no_step": 1}'), []);
});

test('output scanner: CUDA OOM, NCCL timeout, tracebacks with rank prefixes and chained exceptions', () => {
  const out = [
    'step 1 ok', // 1
    '[rank1]: Traceback (most recent call last):', // 2
    '[rank1]:   File "/opt/VLM-R1/src/grpo.py", line 210, in <module>', // 3
    '[rank1]:     main()', // 4
    '[rank1]:   File "/opt/trl/trainer/grpo_trainer.py", line 1311, in _generate', // 5
    '[rank1]:     out = model.generate(**inputs)', // 6
    '[rank1]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 1 has a total capacity of 79.10 GiB', // 7
    '[rank0]:[E1122 07:01:02.123 ProcessGroupNCCL.cpp:616] [Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1501, OpType=ALLREDUCE, NumelIn=1, Timeout(ms)=600000) ran for 600021 milliseconds before timing out.', // 8
    'Traceback (most recent call last):', // 9
    '  File "a.py", line 5, in f', // 10
    'KeyError: 1', // 11
    '', // 12
    'During handling of the above exception, another exception occurred:', // 13
    '', // 14
    'Traceback (most recent call last):', // 15
    '  File "b.py", line 9, in g', // 16
    '    x = y[1]', // 17
    '        ~^^^', // 18
    'RuntimeError: bad', // 19
  ].join('\n');
  const found = scanOutput(out);
  assert.deepEqual(
    found.map((p) => [p.kind, p.line, p.file, p.fileLine]),
    [
      ['cuda-oom', 7, undefined, undefined],
      ['traceback', 7, '/opt/trl/trainer/grpo_trainer.py', 1311],
      ['nccl-timeout', 8, undefined, undefined],
      ['traceback', 11, 'a.py', 5],
      ['traceback', 19, 'b.py', 9],
    ],
  );
  assert.equal(found[1]!.startLine, 2);
  assert.equal(found[1]!.function, '_generate');
  assert.match(found[1]!.message, /^torch\.OutOfMemoryError: CUDA out of memory/);
  assert.equal(found[4]!.message, 'RuntimeError: bad');
});
