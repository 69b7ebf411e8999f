/**
 * Eval profiles (`evals` in .vscode/grpo-studio.json): parsing, problems named by line and field,
 * template expansion (a shell line's values quoted, checked by a real /bin/sh), the plan a
 * benchmark's run starts with, and the training parser still reading a file that has both.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonValueLines, lineOf } from '../../src/core/eval/jsonLines';
import { checkpointRef, EvalProfileError, expandTemplate, parseEvalProfiles, planEval, predictionsFile, templateProblem, validateEvalProfiles } from '../../src/core/eval/profiles';
import { parseProfiles } from '../../src/core/training/profile';

const WS = '/work/ws';
const good = {
  profiles: [{ name: 'grpo', command: ['python3', 'train.py'], output_dir: 'output/grpo' }],
  evals: [
    {
      name: 'seeds',
      checkpoints: 'output/grpo',
      base: 'models/base',
      onNewCheckpoint: true,
      benchmarks: [
        { id: 'drivingvqa', label: 'DrivingVQA', metric: 'exam-score', domain: 'ood', command: ['python3', 'bench.py', '--model', '{checkpoint}', '--out', '{output}'], env: { STEP: '{step}' } },
        { id: 'pope', metric: 'pope', headline: 'f1', shell: true, command: 'python3 bench.py --model {checkpoint} --out {output} > {results}/pope.log', cwd: 'bench/{benchmark}', predictions: '{benchmark}-{name}.jsonl' },
      ],
    },
  ],
};

test('a valid profile: paths absolute, defaults filled', () => {
  const [p] = parseEvalProfiles(JSON.stringify(good, null, 2), 'f.json', WS);
  assert.ok(p);
  assert.equal(p.name, 'seeds');
  assert.deepEqual(p.checkpoints, [join(WS, 'output/grpo')]);
  assert.equal(p.base, join(WS, 'models/base'));
  assert.equal(p.results, join(WS, '.grpo-studio/eval/seeds'));
  assert.equal(p.onNewCheckpoint, true);
  assert.equal(p.settleSeconds, 30);
  assert.equal(p.benchmarks[0]!.predictions, '{benchmark}.jsonl');
  assert.equal(p.benchmarks[0]!.metric, 'exam-score');
  assert.equal(p.benchmarks[1]!.shell, true);
  assert.equal(p.benchmarks[1]!.label, 'pope');
  assert.equal(p.benchmarks[1]!.headline, 'f1');
});

test('the training parser still reads a file that also has evals', () => {
  const profiles = parseProfiles(JSON.stringify(good));
  assert.deepEqual(profiles.map((p) => p.name), ['grpo']);
});

test('a file without evals has no eval profiles (and no problem)', () => {
  assert.deepEqual(parseEvalProfiles(JSON.stringify({ profiles: [] }), 'f.json', WS), []);
});

test('every problem names its line and field; a bad profile leaves the good one', () => {
  const text = `{
  "profiles": [],
  "evals": [
    {
      "name": "ok",
      "benchmarks": [{ "id": "a", "metric": "vqa", "command": ["run", "{checkpoint}", "{output}"] }]
    },
    {
      "name": "bad",
      "onNewCheckpoint": true,
      "benchmarks": [
        { "id": "x", "metric": "accuracy", "command": ["run", "{checkpoint}", "{output}"] },
        { "id": "y", "metric": "pope", "command": ["run", "\${checkpoint}", "{output}"] },
        { "id": "z", "metric": "pass@4", "command": ["run", "{ckpt}"], "predictions": "../z.jsonl" },
        { "id": "x", "metric": "pope", "command": "run {checkpoint} {output}", "colour": 1 }
      ]
    }
  ]
}`;
  const raw = JSON.parse(text) as unknown;
  const { profiles, problems } = validateEvalProfiles(raw, WS);
  assert.deepEqual(profiles.map((p) => p.name), ['ok']);
  let err: EvalProfileError | undefined;
  try {
    parseEvalProfiles(text, '/w/.vscode/grpo-studio.json', WS);
  } catch (e) {
    err = e as EvalProfileError;
  }
  assert.ok(err instanceof EvalProfileError);
  const byField = new Map(err.problems.map((p) => [p.field, p]));
  const at = (field: string): { line?: number; message: string } => {
    const p = byField.get(field);
    assert.ok(p, `a problem at ${field}: ${[...byField.keys()].join(', ')}`);
    return p;
  };
  assert.equal(at('evals[1].onNewCheckpoint').line, 10);
  assert.match(at('evals[1].onNewCheckpoint').message, /needs "checkpoints"/);
  assert.equal(at('evals[1].benchmarks[0].metric').line, 12);
  assert.match(at('evals[1].benchmarks[0].metric').message, /exam-score, letter-f1/);
  assert.equal(at('evals[1].benchmarks[1].command[1]').line, 13);
  assert.match(at('evals[1].benchmarks[1].command[1]').message, /write \{checkpoint\}, not \$\{checkpoint\}/);
  assert.match(at('evals[1].benchmarks[2].command[1]').message, /unknown placeholder \{ckpt\}/);
  assert.match(at('evals[1].benchmarks[2].command').message, /never names \{output\}/);
  assert.match(at('evals[1].benchmarks[2].predictions').message, /a file name \(no folder\)/);
  assert.equal(at('evals[1].benchmarks[3].command').line, 15);
  assert.match(at('evals[1].benchmarks[3].command').message, /needs "shell": true/);
  assert.match(at('evals[1].benchmarks[3].colour').message, /not a benchmark field/);
  assert.match(at('evals[1].benchmarks[3].id').message, /used by another benchmark/);
  // The message of the whole error is one line per problem, file:line: field: why.
  assert.match(err.message, /^\/w\/\.vscode\/grpo-studio\.json:12: evals\[1\]\.benchmarks\[0\]\.metric: /m);
});

test('invalid JSON names the line', () => {
  assert.throws(() => parseEvalProfiles('{\n  "evals": [\n    {"name": "a",,}\n  ]\n}', 'f.json', WS), (e: unknown) => e instanceof EvalProfileError && /^f\.json:3: \(file\): invalid JSON/.test(e.message));
});

test('jsonValueLines: each value by path; a nested path falls back to its parent', () => {
  const lines = jsonValueLines('{\n "a": [1,\n  {"b": "x\\"y"}],\n "c": {\n  "d": null }\n}');
  assert.equal(lines.get('a'), 2);
  assert.equal(lines.get('a[0]'), 2);
  assert.equal(lines.get('a[1].b'), 3);
  assert.equal(lines.get('c.d'), 5);
  assert.equal(lineOf(lines, 'c.d.e[2]'), 5);
  assert.equal(lineOf(lines, 'zzz'), 1);
});

test('templates: known placeholders only, {{ }} literal, ${…} left to the run', () => {
  assert.equal(templateProblem('{checkpoint}/{output}', ['checkpoint', 'output']), undefined);
  assert.equal(templateProblem('python -c "print({{1: 2}})"', ['checkpoint']), undefined);
  assert.equal(templateProblem('${workspaceFolder}/x ${env:HOME}', ['checkpoint']), undefined);
  assert.match(templateProblem('{model}', ['checkpoint'])!, /unknown placeholder \{model\}/);
  assert.match(templateProblem('${output_dir}', ['checkpoint'])!, /unknown variable/);
  assert.equal(expandTemplate('--model={checkpoint} {{x}} ${env:HOME}', { checkpoint: '/a b' }), '--model=/a b {x} ${env:HOME}');
  assert.throws(() => expandTemplate('{nope}', {}), /no value for \{nope\}/);
});

test('a shell line quotes every value: a hostile checkpoint path stays one argument and runs nothing', () => {
  const hostile = "/tmp/ck pt; touch /tmp/pwned-$(id -u) 'q'";
  const line = expandTemplate('printf "%s\\n" {checkpoint} {step}', { checkpoint: hostile, step: '500' }, { shell: true });
  const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
  assert.equal(out, `${hostile}\n500\n`);
});

test('planEval: the argv, cwd, env and predictions path of one benchmark on one checkpoint', () => {
  const [p] = parseEvalProfiles(JSON.stringify(good), 'f.json', WS);
  const c = checkpointRef(p!, join(WS, 'output/grpo/checkpoint-500'));
  assert.deepEqual(c, { path: join(WS, 'output/grpo/checkpoint-500'), id: 'checkpoint-500', step: 500 });
  const a = planEval(p!, p!.benchmarks[0]!, c, WS);
  const out = join(WS, '.grpo-studio/eval/seeds/checkpoint-500/drivingvqa.jsonl');
  assert.deepEqual(a.command, ['python3', 'bench.py', '--model', c.path, '--out', out]);
  assert.equal(a.cwd, WS);
  assert.deepEqual(a.env, { STEP: '500' });
  assert.equal(a.output, out);
  const b = planEval(p!, p!.benchmarks[1]!, c, WS);
  assert.equal(b.output, join(WS, '.grpo-studio/eval/seeds/checkpoint-500/pope-checkpoint-500.jsonl'));
  assert.equal(b.cwd, join(WS, 'bench/pope'));
  assert.equal(b.command, `python3 bench.py --model ${c.path} --out ${b.output} > ${join(WS, '.grpo-studio/eval/seeds/checkpoint-500')}/pope.log`);
  // The base model is checkpoint "base", step 0, whatever its folder is called.
  const base = checkpointRef(p!, join(WS, 'models/base'));
  assert.deepEqual([base.id, base.step], ['base', 0]);
  assert.equal(predictionsFile(p!, p!.benchmarks[0]!, base), join(WS, '.grpo-studio/eval/seeds/base/drivingvqa.jsonl'));
  // A folder name holding "${" would be read as a variable by the run: refused before it starts.
  assert.throws(() => planEval(p!, p!.benchmarks[0]!, checkpointRef(p!, join(WS, 'x${HOME}')), WS), /contains "\$\{"/);
});

test('an eval profile can target Slurm: each benchmark becomes a Slurm run of the run manager; bad slurm fields are named', async () => {
  const { runProfileOf } = await import('../../src/core/eval/runEval');
  const { validateProfiles } = await import('../../src/core/training/profile');
  const onSlurm = { ...good, evals: [{ ...good.evals[0]!, target: 'slurm', slurm: { partition: 'gpu', gpusPerNode: 1, time: '1:00:00' } }] };
  const [p] = parseEvalProfiles(JSON.stringify(onSlurm, null, 2), 'f.json', WS);
  assert.ok(p);
  assert.equal(p.target, 'slurm');
  assert.deepEqual(p.slurm, { partition: 'gpu', gpusPerNode: 1, time: '1:00:00' });
  const plan = planEval(p, p.benchmarks[0]!, checkpointRef(p, join(WS, 'output/grpo/checkpoint-100')), WS);
  const run = runProfileOf(p, plan);
  assert.equal(run.target, 'slurm');
  assert.deepEqual(run.slurm, p.slurm);
  // The run profile it hands the run manager is one the training parser accepts as it stands.
  const back = validateProfiles(JSON.parse(JSON.stringify({ profiles: [run] })));
  assert.deepEqual(back.problems, []);
  assert.equal(back.profiles[0]!.target, 'slurm');
  const wrong = { ...good, evals: [{ ...good.evals[0]!, target: 'slurm', slurm: { partition: 'has space', nodes: 0 } }, { ...good.evals[0]!, name: 'local', slurm: {} }] };
  const problems = validateEvalProfiles(wrong, WS).problems.map((x) => x.field);
  assert.ok(problems.includes('evals[0].slurm.partition') && problems.includes('evals[0].slurm.nodes'), problems.join(', '));
  assert.ok(problems.includes('evals[1].slurm'), problems.join(', '));
});
