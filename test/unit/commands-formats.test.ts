// Every command takes every format: `judge` (rules tier, offline), `query`, `stats`, `export` and
// `score` read a verl dump, a TRL run, a VLM-R1 debug log and an EasyR1 folder through the same
// ingest as the viewer, as a user runs them (the real CLI in a child process). What each should
// find is computed here from the files themselves (verl's truth.json names every row's uid, the
// parquet rows are read back with hyparquet, the log blocks are counted from their headers), not
// from our own output; the Alignment dashboard's table is checked over the same sources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignmentOfFiles } from '../../src/core/judge/alignment';
import { openSource } from '../../src/core/ingest/source';
import { writeEasyr1, writeTrl, writeVlmr1 } from '../fixtures/formats/trainers';

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const VERL = join(ROOT, 'test', 'fixtures', 'trainers', 'verl');
function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OPENAI_API_KEY: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const jsonLines = (text: string): Array<Record<string, unknown>> => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
/** stderr lines that are bad lines, not notes or summaries. */
const notesIn = (err: string): string[] => err.split('\n').filter((l) => /: note: /.test(l));

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'commands-formats-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface VerlRow {
  file: string;
  line: number;
  uid: string;
  input: string;
  output: string;
  score: number;
}

/** A verl folder copied out of the fixtures (the judge writes caches beside the files), with each row's uid by file and line. */
function verlCopy(sub: 'rollout' | 'val'): { path: string; rows: VerlRow[] } {
  // truth.json: per file the rows as the rollout produced them, and `order`: dumped line i+1 is rows[order[i]].
  const truth = JSON.parse(readFileSync(join(VERL, 'truth.json'), 'utf8')) as { files: Record<string, { rows: { uid: string; output: string }[]; order: number[] }> };
  const path = join(dir, `verl-${sub}`);
  cpSync(join(VERL, sub), path, { recursive: true });
  const rows: VerlRow[] = [];
  const names = readdirSync(path).filter((n) => /^\d+\.jsonl$/.test(n)).sort((a, b) => parseInt(a) - parseInt(b));
  for (const name of names) {
    const lines = readFileSync(join(path, name), 'utf8').split('\n').filter((l) => l !== '');
    const t = truth.files[`${sub}/${name}`]!;
    assert.equal(t.order.length, lines.length, `truth.json lists every row of ${sub}/${name}`);
    lines.forEach((l, i) => {
      const raw = JSON.parse(l) as { input: string; output: string; score: number };
      const row = t.rows[t.order[i]!]!;
      assert.equal(raw.output, row.output, 'truth.json order maps lines to rows');
      rows.push({ file: name, line: i + 1, uid: row.uid, input: raw.input, output: raw.output, score: raw.score });
    });
  }
  return { path, rows };
}

/**
 * Two rows share a group exactly when they share a uid in the same step file, except where two
 * uids had the same prompt in one step (step 3 here): no verl dump says which rollout was whose,
 * so those rows may share a group (docs/formats.md#verl).
 */
function assertUidGroups(got: string[], rows: readonly VerlRow[]): void {
  const uidsOfPrompt = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = `${r.file}|${r.input}`;
    uidsOfPrompt.set(k, (uidsOfPrompt.get(k) ?? new Set()).add(r.uid));
  }
  let checked = 0;
  for (let i = 0; i < got.length; i++) for (let j = i + 1; j < got.length; j++) {
    const [a, b] = [rows[i]!, rows[j]!];
    const sameUid = a.file === b.file && a.uid === b.uid;
    if (!sameUid && a.file === b.file && a.input === b.input && uidsOfPrompt.get(`${a.file}|${a.input}`)!.size > 1) continue;
    assert.equal(got[i] === got[j], sameUid, `rows ${a.file}:${a.line} (${a.uid}) and ${b.file}:${b.line} (${b.uid})`);
    checked++;
  }
  assert.ok(checked > 0);
}

test('verl dump: judge judges every row, groups by the rows a prompt had, and writes each step file its own cache; query and the dashboard agree', async () => {
  const { path, rows } = verlCopy('rollout');
  const r = cli('judge', path, '--json');
  assert.equal(r.code, 0, r.err);
  const lines = jsonLines(r.out);
  const summary = lines.pop()!;
  assert.equal(summary.judged, rows.length, 'every row of every step file is judged');
  assert.deepEqual(lines.map((l) => [l.file, l.line]), rows.map((x) => [x.file, x.line]), 'one line per row, in file order, named by file and line');
  assertUidGroups(lines.map((l) => `${l.file}|${l.group}`), rows);
  for (const name of new Set(rows.map((x) => x.file))) assert.ok(existsSync(join(path, `${name}.verdicts.jsonl`)), `${name} has its own verdict cache (where the viewer looks)`);
  const again = cli('judge', path, '--json');
  assert.equal(jsonLines(again.out).pop()!.cached, rows.length, 'a second run asks nothing: every verdict is found in the per-file caches');
  assert.equal(again.err.split('\n').filter((l) => /: (invalid JSON|not a record)/.test(l)).length, 0, 'the caches are not read as rollouts');

  // query: a text, a group, zero variance (the logged scores of a uid all equal), the verdicts.
  // A row whose prompt only one uid had in its step: its group is exactly that uid's rows.
  const pick = [...rows].reverse().find((x) => rows.every((y) => y.file !== x.file || y.input !== x.input || y.uid === x.uid))!;
  const text = cli('query', path, `completion ~ ${JSON.stringify(pick.output)}`, '--json');
  assert.equal(text.code, 0, text.err);
  assert.deepEqual(jsonLines(text.out).map((o) => [o.file, o.line]), rows.filter((x) => x.output.includes(pick.output)).map((x) => [x.file, x.line]));
  const groupOf = lines[rows.indexOf(pick)]!.group as string;
  const grp = cli('query', path, `group == ${JSON.stringify(groupOf)}`, '--json');
  assert.deepEqual(jsonLines(grp.out).map((o) => [o.file, o.line]), rows.filter((x) => x.file === pick.file && x.uid === pick.uid).map((x) => [x.file, x.line]));
  const byUid = new Map<string, number[]>();
  for (const x of rows) byUid.set(`${x.file}|${x.uid}`, [...(byUid.get(`${x.file}|${x.uid}`) ?? []), x.score]);
  const flat = rows.filter((x) => {
    const s = byUid.get(`${x.file}|${x.uid}`)!;
    return s.length > 1 && s.every((v) => Math.fround(v) === Math.fround(s[0]!));
  });
  const zv = cli('query', path, 'zero_variance', '--json');
  assert.equal(zv.code, flat.length ? 0 : 1, zv.err);
  assert.deepEqual(zv.out.trim() === '' ? [] : jsonLines(zv.out).map((o) => [o.file, o.line]), flat.map((x) => [x.file, x.line]));
  const tsv = cli('query', path, `group == ${JSON.stringify(groupOf)}`);
  assert.equal(tsv.out.trim().split('\n')[0]!.split('\t')[0], `${pick.file}:${rows.find((x) => x.file === pick.file && x.uid === pick.uid)!.line}`, 'a folder: <file>:<line> first');
  assert.equal(cli('query', path, 'verdict != unjudged', '--count').out.trim(), String(rows.length), 'the verdicts come from the per-file caches');

  // The dashboard's table over the folder: one run named after it, every completion judged.
  const a = await alignmentOfFiles([path]);
  assert.equal(a.completions, rows.length);
  const run = a.rows.find((x) => x.scope === 'run')!;
  assert.deepEqual([run.run, run.judged], ['verl-rollout', rows.length]);
  assert.equal(a.rows.filter((x) => x.scope === 'step').length, new Set(rows.map((x) => x.file)).size, 'one row per step file');
});

test('verdicts over a folder: the rules\' misaligned rows are the ones query and the dashboard find, by file and line', async () => {
  // Rows with the keys `_dump_generations` writes; a reasoning that names B with the answer C
  // contradicts itself (the rules tier says so), one that names B with B does not.
  const folder = join(dir, 'verl-judged');
  mkdirSync(folder);
  const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
  const misaligned: [string, number][] = [];
  for (const step of [4, 5]) {
    const rows = [0, 1, 2, 3].map((k) => {
      const bad = (k + step) % 3 === 0;
      if (bad) misaligned.push([`${step}.jsonl`, k + 1]);
      return { input: `Q${k % 2}: which is red?`, output: c('it is red, so the answer is B.', bad ? 'C' : 'B'), gts: 'B', score: bad ? 0 : 1, step };
    });
    writeFileSync(join(folder, `${step}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  const r = cli('judge', folder, '--json');
  assert.equal(r.code, 0, r.err);
  const lines = jsonLines(r.out);
  assert.equal(lines.pop()!.misaligned, misaligned.length);
  assert.deepEqual(lines.filter((l) => l.aligns === false).map((l) => [l.file, l.line]), misaligned);
  const q = cli('query', folder, 'verdict == misaligned', '--json');
  assert.deepEqual(jsonLines(q.out).map((o) => [o.file, o.line]), misaligned);
  assert.equal(cli('query', folder, 'verdict == aligned', '--count').out.trim(), String(8 - misaligned.length));
  const a = await alignmentOfFiles([folder]);
  const run = a.rows.find((x) => x.scope === 'run')!;
  assert.deepEqual([run.run, run.judged, run.misaligned, run.types.contradiction], ['verl-judged', 8, misaligned.length, misaligned.length]);
});

test('verl validation dump: stats, export, score, judge and query print each source note on stderr', async () => {
  const { path, rows } = verlCopy('val');
  // `_validate` dumps the summed token score as "reward" besides "score": the reader says so.
  const { notes } = await (await openSource(path)).read(() => {});
  assert.ok(notes.some((n) => /validation/i.test(n.message)), 'a validation dump is noted');
  for (const args of [['stats', path], ['export', path], ['score', path], ['judge', path], ['query', path, 'step >= 0', '--count']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, `${args[0]}: ${r.err}`);
    const printed = notesIn(r.err);
    assert.equal(printed.length, notes.length, `${args[0]} prints every note: ${r.err}`);
    for (const n of notes) assert.ok(printed.includes(`${n.file}${n.line === undefined ? '' : `:${n.line}`}: note: ${n.message}`), `${args[0]}: ${n.message}`);
  }
  assert.equal(JSON.parse(cli('stats', path, '--json').out).completions, rows.length);
});

test('TRL run folder: judge and query read the parquet rows, located by file and row', async () => {
  const path = await writeTrl(join(dir, 'trl'), { config: 2 });
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const rows: { file: string; line: number; completion: string }[] = [];
  const files = readdirSync(join(path, 'completions')).filter((n) => n.endsWith('.parquet')).sort();
  for (const name of files) {
    const objs = (await parquetReadObjects({ file: await asyncBufferFromFile(join(path, 'completions', name)) })) as { completion: unknown }[];
    objs.forEach((o, i) => {
      if (typeof o.completion === 'string') rows.push({ file: `completions/${name}`, line: i + 1, completion: o.completion });
    });
  }
  assert.ok(rows.length > 0);
  const r = cli('judge', path, '--json');
  assert.equal(r.code, 0, r.err);
  const lines = jsonLines(r.out);
  assert.equal(lines.pop()!.judged, rows.length, 'every row with a completion is judged');
  assert.deepEqual(lines.map((l) => [l.file, l.line]), rows.map((x) => [x.file, x.line]), 'rows are named by parquet file and 1-based row');
  for (const name of files) assert.ok(existsSync(join(path, 'completions', `${name}.verdicts.jsonl`)));
  const pick = rows[2 % rows.length]!;
  const q = cli('query', path, `completion ~ ${JSON.stringify(pick.completion)}`, '--json');
  assert.equal(q.code, 0, q.err);
  assert.deepEqual(jsonLines(q.out).map((o) => [o.file, o.line]), rows.filter((x) => x.completion.includes(pick.completion)).map((x) => [x.file, x.line]));
  const rec = cli('query', path, `completion ~ ${JSON.stringify(pick.completion)}`, '--records', '--limit', '1');
  assert.equal((JSON.parse(rec.out.trim()) as { completion: string }).completion, pick.completion);
  assert.equal(cli('query', path, '', '--count').out.trim(), String(rows.length));
  const a = await alignmentOfFiles([path]);
  assert.deepEqual([a.completions, a.rows.find((x) => x.scope === 'run')!.run], [rows.length, 'trl-run']);
});

/** Block formats: the 1-based line of each block's first line, from the file's own text. */
function blockStarts(text: string, isStart: (line: string) => boolean): number[] {
  return text.split('\n').flatMap((l, i) => (isStart(l) ? [i + 1] : []));
}

test('VLM-R1 debug log and EasyR1 folder: every block is a judged completion or a bad line; query finds a block by its first line', () => {
  const vlm = writeVlmr1(join(dir, 'vlm'));
  const easy = writeEasyr1(join(dir, 'easy'));
  const cases: [string, string, number[], string, string][] = [
    // VLM-R1: "------------- <time> <Name> reward: <x> -------------" opens each block.
    [vlm, readFileSync(vlm, 'utf8'), blockStarts(readFileSync(vlm, 'utf8'), (l) => /^-{5,} \d{2}-\d{2}-\d{2}-\d{2}-\d+ .*reward: .* -{5,}$/.test(l)), 'Completion: late', 'late'],
    // EasyR1: "[prompt] …" opens each block of generations.log.
    [easy, readFileSync(join(easy, 'generations.log'), 'utf8'), blockStarts(readFileSync(join(easy, 'generations.log'), 'utf8'), (l) => l.startsWith('[prompt]')), '[output] blue', 'blue'],
  ];
  for (const [path, text, starts, marker, needle] of cases) {
    const r = cli('judge', path, '--json');
    assert.equal(r.code, 0, r.err);
    const lines = jsonLines(r.out);
    const judged = lines.pop()!.judged as number;
    const recordsFile = path === vlm ? vlm : join(easy, 'generations.log');
    const bad = r.err.split('\n').filter((l) => l.startsWith(`${recordsFile}:`) && !/: note: /.test(l)).length;
    assert.ok(judged > 0, path);
    assert.equal(judged + bad, starts.length, `${path}: each block is a completion or a bad line`);
    for (const l of lines) assert.ok(starts.includes(l.line as number), `line ${String(l.line)} is a block's first line`);
    // The block holding `marker` starts at the last block start before it.
    const at = text.split('\n').indexOf(marker) + 1;
    const want = Math.max(...starts.filter((s) => s < at));
    const q = cli('query', path, `completion ~ ${JSON.stringify(needle)}`, '--json');
    assert.equal(q.code, 0, q.err);
    assert.ok(jsonLines(q.out).some((o) => o.line === want), `${path}: the "${needle}" block at line ${want}: ${q.out}`);
  }
});

test('a source with no completion: judge exits 1 naming the path and the format; query says so and exits 1', () => {
  const empty = join(dir, 'empty-verl');
  mkdirSync(empty);
  writeFileSync(join(empty, '7.jsonl'), '{"input": "x", "output": \n');
  const r = cli('judge', empty);
  assert.equal(r.code, 1, 'nothing judged is not a success');
  assert.match(r.err, new RegExp(`no completions to judge in ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, read as verl`));
  assert.match(r.err, /7\.jsonl:1: invalid JSON/);
  const q = cli('query', empty, '');
  assert.equal(q.code, 1);
  assert.match(q.err, /no completions in .* read as verl/);
  assert.equal(cli('judge', join(dir, 'nowhere')).code, 2);
});

test('query over a native folder (records) answers as the index over the same file; meta.<key> on a native file takes the record path', () => {
  const recs: Record<string, unknown>[] = [];
  for (let step = 0; step < 4; step++) for (let k = 0; k < 3; k++) {
    const flat = step === 2;
    recs.push({ v: 1, step, group: `${step}/0`, index: k, completion: `<think>look ${k}</think> <answer>${k % 2 ? 'left' : 'right'}</answer>`, rewards: { accuracy: flat ? 1 : k % 2, format: 1 }, meta: { difficulty: step + k } });
  }
  const folder = join(dir, 'native-folder');
  mkdirSync(folder);
  const file = join(folder, 'run.rollouts.jsonl');
  writeFileSync(file, recs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  for (const q of ['reward.accuracy > 0 and step >= 1', 'zero_variance', 'completion ~ /left/', 'not format_ok', '']) {
    const onIndex = jsonLines(cli('query', file, q, '--json').out);
    const onRecords = jsonLines(cli('query', folder, q, '--json').out);
    assert.deepEqual(onRecords.map(({ file: f, ...rest }) => { assert.equal(f, 'run.rollouts.jsonl'); return rest; }), onIndex, q);
  }
  const meta = cli('query', file, 'meta.difficulty >= 4', '--json');
  assert.equal(meta.code, 0, meta.err);
  assert.deepEqual(jsonLines(meta.out).map((o) => o.line), recs.flatMap((x, i) => ((x.meta as { difficulty: number }).difficulty >= 4 ? [i + 1] : [])));
  // The judge's cache lands in the folder; the folder's listing must not read it as rollouts.
  assert.equal(cli('judge', folder).code, 0);
  assert.ok(existsSync(`${file}.verdicts.jsonl`));
  const all = cli('query', folder, '', '--count');
  assert.deepEqual([all.out.trim(), all.err], [String(recs.length), '']);
  const typo = cli('query', folder, 'meta.difficultly > 1');
  assert.equal(typo.code, 2);
  assert.match(typo.err, /no meta key "difficultly"/);
});
