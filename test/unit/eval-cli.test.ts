/**
 * `grpo-studio eval` and `grpo-studio report` through the real CLI in a child process, on a study
 * written to disk whose right answers are known (test/fixtures/eval/matrix.ts): the --json last
 * line of every metric, --compare's paired test, exit codes, the matrix against the construction,
 * and the HTML report's safety (no script, nothing remote, hostile strings escaped).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { biasProbe } from '../../src/core/eval/bias';
import { mcnemarExact, wilson } from '../../src/core/eval/stats';
import type { PredictionItem } from '../../src/core/eval/types';
import { HOSTILE_ANSWER, HOSTILE_LABEL, writeStudy, type Study } from '../fixtures/eval/matrix';

const ROOT = join(__dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
function cli(cwd: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const last = (out: string): Record<string, unknown> => JSON.parse(out.trim().split('\n').pop()!);
const close = (a: unknown, b: number, what: string): void => assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-12, `${what}: ${String(a)} vs ${b}`);

let dir = '';
let study: Study;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-eval-cli-'));
  study = writeStudy(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('eval --json: the last line is {"value","ci95","n"} for single-number metrics, the parts for letter-f1 and POPE', () => {
  const exam = cli(dir, 'eval', 'checkpoint-100/exam.tsv', '--metric', 'exam-score', '--json');
  assert.equal(exam.code, 0, exam.err);
  assert.equal(exam.err, '');
  const o = last(exam.out);
  const k = study.right['checkpoint-100']!.exam!.size;
  close(o.value, k / 150, 'exam value');
  assert.deepEqual(o.ci95, wilson(k, 150));
  assert.equal(o.n, 150);
  const vqa = last(cli(dir, 'eval', 'base/vqa.jsonl', '--metric', 'vqa', '--json').out);
  close(vqa.value, study.expected.base!.vqa!, 'vqa');
  const pope = last(cli(dir, 'eval', 'base/pope.jsonl', '--metric', 'pope', '--json').out);
  assert.deepEqual(Object.keys(pope).filter((x) => !['metric', 'ci95', 'n'].includes(x)), ['accuracy', 'precision', 'recall', 'f1', 'yes_ratio']);
  close(pope.accuracy, study.expected.base!.pope!, 'pope accuracy');
  const f1 = last(cli(dir, 'eval', 'base/exam.tsv', '--metric', 'letter-f1', '--json').out);
  for (const key of ['precision', 'recall', 'f1']) assert.equal(typeof f1[key], 'number', key);
  const human = cli(dir, 'eval', 'base/pope.jsonl', '--metric', 'pope');
  assert.match(human.out, /^# .*pope\.jsonl \(jsonl\): 200 questions scored\npope accuracy: 57\.00%  95% CI \[/);
});

test('eval --compare: paired on the shared questions, exact McNemar on the discordant ones', () => {
  const r = cli(dir, 'eval', 'base/exam.tsv', '--metric', 'exam-score', '--compare', 'checkpoint-100/exam.tsv', '--json');
  assert.equal(r.code, 0, r.err);
  const c = last(r.out).compare as Record<string, number | string | boolean>;
  const a = study.right.base!.exam!;
  const b = study.right['checkpoint-100']!.exam!;
  const lost = [...a].filter((i) => !b.has(i)).length;
  const gained = [...b].filter((i) => !a.has(i)).length;
  assert.equal(c.test, 'mcnemar-exact');
  assert.deepEqual([c.b, c.c, c.n], [lost, gained, 150]);
  close(c.p_value, mcnemarExact(lost, gained).p_value, 'p');
  close(c.delta, (b.size - a.size) / 150, 'delta');
  assert.equal(c.significant, (c.p_value as number) < 0.05);
  // Ten agreeing annotators score 0 or 1, so VQA here is binary too: McNemar, b = 0 lost, 15 gained.
  const vqa = cli(dir, 'eval', 'base/vqa.jsonl', '--metric', 'vqa', '--compare', 'checkpoint-100/vqa.jsonl');
  assert.match(vqa.out, /vs .*checkpoint-100\/vqa\.jsonl: 58\.33% → 70\.83% \(\+12\.50 pts, 95% CI .*\) on 120 shared questions\n  exact McNemar \(b=0, c=15\) p=6\.10e-5: a real difference/);
  // F1 is no mean of 0/1 scores: a paired bootstrap.
  const f1 = last(cli(dir, 'eval', 'base/exam.tsv', '--metric', 'letter-f1', '--compare', 'checkpoint-100/exam.tsv', '--json').out).compare as Record<string, unknown>;
  assert.equal(f1.test, 'paired-bootstrap');
  assert.equal(f1.resamples, 2000);
  assert.ok((f1.delta_ci95 as number[])[0]! <= (f1.delta as number) && (f1.delta as number) <= (f1.delta_ci95 as number[])[1]!);
});

test('eval: bad lines named on stderr while the rest is scored; usage, unreadable and unscorable inputs exit 2, 2 and 1', () => {
  const f = join(dir, 'mixed.jsonl');
  writeFileSync(f, `${JSON.stringify({ id: 1, prediction: 'yes', answer: 'yes' })}\n{oops\n${JSON.stringify({ id: 2, prediction: 'no', answer: 'perhaps' })}\n${JSON.stringify({ id: 3, prediction: 'No', answer: 'no' })}\n`);
  const r = cli(dir, 'eval', f, '--metric', 'pope', '--json');
  assert.equal(r.code, 0);
  assert.deepEqual(r.err.trim().split('\n').map((l) => l.replace(f, 'F').split(': ').slice(0, 2).join(': ')), ['grpo-studio eval: F:2', 'grpo-studio eval: F:3']);
  assert.equal(last(r.out).n, 2);
  const esc = join(dir, 'escape.jsonl');
  writeFileSync(esc, `${JSON.stringify({ id: 1, prediction: 'yes', answer: 'yes' })}\n\u001b]0;pwned\u0007\u001b[2J\n`);
  const e = cli(dir, 'eval', esc, '--metric', 'pope');
  assert.equal(e.code, 0);
  assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(e.err), 'no terminal control character reaches stderr');
  assert.match(e.err, /escape\.jsonl:2: invalid JSON: .*\\u001b/);
  assert.equal(cli(dir, 'eval', f).code, 2);
  assert.match(cli(dir, 'eval', f, '--metric', 'pass@0').err, /unknown metric 'pass@0'/);
  assert.match(cli(dir, 'eval', f, '--metric', 'constructor').err, /unknown metric 'constructor'/);
  assert.equal(cli(dir, 'eval', 'nope.jsonl', '--metric', 'vqa').code, 2);
  const none = cli(dir, 'eval', f, '--metric', 'vqa');
  assert.equal(none.code, 1);
  assert.match(none.err, /no question could be scored with vqa/);
});

test('report: the matrix equals the construction, deltas against the base, logged lmms-eval cells; Markdown in the seeds\' table shapes', () => {
  const r = cli(dir, 'report', 'eval.json', '--out', 'out/report', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const m = last(r.out) as { cells: Record<string, Record<string, { value: number; n: number; logged: boolean; delta?: { value: number; p_value?: number } }>>; base: string };
  assert.equal(m.base, 'base');
  for (const [ck, per] of Object.entries(study.expected)) {
    for (const [b, v] of Object.entries(per)) {
      close(m.cells[ck]![b]!.value, v, `${ck} ${b}`);
      if (ck !== 'base') close(m.cells[ck]![b]!.delta!.value, v - study.expected.base![b]!, `${ck} ${b} delta`);
    }
  }
  const a = study.right.base!.pope!;
  const b = study.right['checkpoint-300']!.pope!;
  close(m.cells['checkpoint-300']!.pope!.delta!.p_value, mcnemarExact([...a].filter((i) => !b.has(i)).length, [...b].filter((i) => !a.has(i)).length).p_value, 'pope p');
  assert.deepEqual([m.cells['checkpoint-300']!.gqa!.value, m.cells['checkpoint-300']!.gqa!.n, m.cells['checkpoint-300']!.gqa!.logged], [0.8433, 12578, true]);
  const md = readFileSync(join(dir, 'out/report.md'), 'utf8');
  for (const head of [
    '| Model | Reasoning | Accuracy | Alignment |',
    '| Methods | Accuracy Reward | Format Reward | IoU Reward | DrivingVQA (OOD) | POPE (In-Domain) | VQAv2 (In-Domain) |',
    '| Methods | Training Data | Augmented | DrivingVQA | POPE | VQAv2 | GQA |',
    '| Train Data | SFT | GRPO |',
    '| Checkpoint | Step | DrivingVQA | POPE | VQAv2 | GQA |',
    '| Step | DrivingVQA | POPE | VQAv2 | GQA |',
  ]) assert.ok(md.includes(head), head);
  assert.match(md, /\| Qwen-Instruct \| ✓ \| 58\.00% <sub>95% CI [\d.–]+, n=150<\/sub> \| \*\*88\.30%\*\* <sub>n=1000<\/sub> \|/);
  assert.ok(!md.includes(HOSTILE_LABEL) && !md.includes(HOSTILE_ANSWER), 'hostile strings escaped in Markdown');
  assert.ok(md.includes('&lt;/td&gt;&lt;script&gt;'));
});

test('report HTML: one self-contained file, no <script>, no http(s) src/href, the scaling plot inline, hostile answer and label escaped', () => {
  const html = readFileSync(join(dir, 'out/report.html'), 'utf8');
  assert.ok(!/<script/i.test(html), 'no script element');
  assert.ok(!/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i.test(html), 'no remote src/href');
  // Every tag in the file is the writer's own (strings are escaped, so no "<" of theirs survives):
  // none of them loads anything or carries a handler.
  const tags = html.match(/<[^>]*>/g) ?? [];
  assert.ok(tags.length > 100);
  for (const t of tags) {
    assert.ok(!/\s(?:src|href|xlink:href|on[a-z]+)\s*=/i.test(t), t);
    assert.ok(!/^<(?:img|link|iframe|object|embed|image|use|foreignObject)\b/i.test(t), t);
  }
  assert.ok(!html.includes(HOSTILE_ANSWER) && !html.includes(HOSTILE_LABEL));
  assert.ok(html.includes('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;'), 'the hostile gold answer shown as text');
  assert.ok(html.includes('&lt;/td&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;'), 'the hostile label shown as text');
  const svg = /<svg class="chart"[\s\S]*?<\/svg>/.exec(html);
  assert.ok(svg, 'the scaling plot');
  assert.equal((svg[0].match(/<polyline /g) ?? []).length, 4, 'one curve per benchmark');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
});

test('report on a folder laid out <checkpoint>/<benchmark>: steps from the names, metrics from the gold answers', () => {
  rmSync(join(dir, 'eval.json'));
  const r = cli(dir, 'report', '.', '--out', join(dir, 'folder-report'), '--json');
  assert.equal(r.code, 0, r.err);
  const m = last(r.out) as { benchmarks: { id: string; metric: string }[]; checkpoints: { id: string; step?: number }[]; base: string; cells: Record<string, Record<string, { value: number }>> };
  assert.deepEqual(m.benchmarks.map((b) => [b.id, b.metric]), [['exam', 'exam-score'], ['pope', 'pope'], ['vqa', 'vqa']]);
  assert.deepEqual(m.checkpoints.map((c) => [c.id, c.step]), [['base', 0], ['checkpoint-100', 100], ['checkpoint-200', 200], ['checkpoint-300', 300], ['sft', undefined]]);
  assert.equal(m.base, 'base');
  close(m.cells['checkpoint-200']!.vqa!.value, study.expected['checkpoint-200']!.vqa!, 'folder vqa');
  const bad = cli(dir, 'report', join(dir, 'nothing-here'));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cannot read .*nothing-here: ENOENT/);
});

test('bias probe: a training set whose relation word gives the answer away is caught by the text-only baseline', () => {
  const relations = ['left of', 'right of', 'on', 'under'];
  const items: PredictionItem[] = Array.from({ length: 240 }, (_, i) => {
    const rel = relations[i % 4]!;
    return { id: String(i), prediction: 'yes', question: `Is the ${['cat', 'dog', 'cup'][i % 3]} ${rel} the table?`, answer: rel === 'on' || rel === 'left of' ? 'yes' : 'no', where: { file: 'vsr', line: i + 1 } };
  });
  const p = biasProbe(items, 'pope')!;
  assert.deepEqual(p.distribution.map((d) => [d.answer, d.count]), [['no', 120], ['yes', 120]]);
  close(p.majority.value, 0.5, 'majority');
  assert.ok(p.text_only!.value > 0.95, `text-only ${p.text_only!.value}`);
});
