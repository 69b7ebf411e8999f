/**
 * The local NLI tier end to end on a tiny ONNX model built here with onnx-proto (no download):
 * logits = Σ over unmasked tokens of a per-token vote row (Gather + mask + ReduceSum), so hand-
 * picked words give known labels. The [PAD] row votes hard for "contradiction": if padding were
 * not masked in a batch, short pairs would flip — the batch path is checked, not just one pair.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { LocalJudge } from '../../src/core/judge/local/judge';
import { readModelFolder } from '../../src/core/judge/local/nli';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { prepare } from '../../src/core/judge/input';
import { isFailure } from '../../src/core/judge/verdict';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'answer', 'is', '.', 'therefore', 'not', 'maybe', 'ball', 'red', 'b', 'c', '##s'];
// Label order as many NLI cross-encoders write it: 0 contradiction, 1 entailment, 2 neutral.
const ID2LABEL = { '0': 'CONTRADICTION', '1': 'ENTAILMENT', '2': 'NEUTRAL' };
/** Votes per token: [contradiction, entailment, neutral]. */
const VOTES: Record<string, [number, number, number]> = {
  '[PAD]': [100, 0, 0],
  '[CLS]': [0, 0, 1],
  therefore: [0, 3, 0],
  not: [5, 0, 0],
  maybe: [0, 0, 3],
};

function tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values };
}
function ints(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values };
}
function input(name: string): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] } } },
  };
}

function buildModel(withTokenTypes: boolean): Uint8Array {
  const emb = VOCAB.flatMap((t) => VOTES[t] ?? [0, 0, 0]);
  const nodes: onnx.INodeProto[] = [
    { opType: 'Gather', input: ['emb', 'input_ids'], output: ['tok'], attribute: [{ name: 'axis', i: 0, type: onnx.AttributeProto.AttributeType.INT }] },
    { opType: 'Cast', input: ['attention_mask'], output: ['maskf'], attribute: [{ name: 'to', i: onnx.TensorProto.DataType.FLOAT, type: onnx.AttributeProto.AttributeType.INT }] },
    { opType: 'Unsqueeze', input: ['maskf', 'axis2'], output: ['mask3'] },
  ];
  const initializer = [tensor('emb', [VOCAB.length, 3], emb), ints('axis2', [2]), ints('axis1', [1])];
  let summed = 'tok';
  if (withTokenTypes) {
    // Segment B (the hypothesis) adds nothing; the input must still be fed with the right shape.
    initializer.push(tensor('types', [2, 3], [0, 0, 0, 0, 0, 0]));
    nodes.push({ opType: 'Gather', input: ['types', 'token_type_ids'], output: ['typ'], attribute: [{ name: 'axis', i: 0, type: onnx.AttributeProto.AttributeType.INT }] });
    nodes.push({ opType: 'Add', input: ['tok', 'typ'], output: ['tok2'] });
    summed = 'tok2';
  }
  nodes.push({ opType: 'Mul', input: [summed, 'mask3'], output: ['masked'] });
  nodes.push({ opType: 'ReduceSum', input: ['masked', 'axis1'], output: ['logits'], attribute: [{ name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT }] });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'grpo-studio-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny-nli',
      node: nodes,
      initializer,
      input: [input('input_ids'), input('attention_mask'), ...(withTokenTypes ? [input('token_type_ids')] : [])],
      output: [{ name: 'logits', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } } }],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

function special(content: string, id: number): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** A BERT-style WordPiece tokenizer.json over VOCAB. */
function tokenizerJson(): Record<string, unknown> {
  const tok = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((t, i) => special(t, i)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  };
}

function modelFolder(withTokenTypes: boolean, maxPositions = 64): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-nli-'));
  writeFileSync(join(dir, 'model.onnx'), buildModel(withTokenTypes));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['TinyNli'], id2label: ID2LABEL, max_position_embeddings: maxPositions }));
  return dir;
}

const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
const subject = (think: string, answer: string) => prepare({ completion: c(think, answer), question: 'q' });

test('the tiny model classifies hand-picked pairs as designed, batched with padding, in a worker', async () => {
  for (const withTypes of [false, true]) {
    const judge = await LocalJudge.open({ dir: modelFolder(withTypes), batchSize: 8 });
    try {
      // Lengths differ, so the short pairs are padded: the mask must silence [PAD]'s vote.
      const probs = await judge.classify([
        ['the ball is red therefore b', 'The answer is b.'],
        ['the ball is not red the ball is the ball is the ball', 'The answer is c.'],
        ['maybe', 'The answer is b.'],
        ['ball', 'The answer is b.'],
      ]);
      // Row 0: votes [0, 3, 1] → softmax; row 3 (only [CLS] votes): [0, 0, 1].
      const e = [Math.exp(0), Math.exp(3), Math.exp(1)];
      const s = e[0]! + e[1]! + e[2]!;
      assert.ok(Math.abs(probs[0]!.entailment - e[1]! / s) < 1e-5, `types=${withTypes} entailment p`);
      assert.ok(Math.abs(probs[0]!.contradiction - e[0]! / s) < 1e-5);
      assert.ok(probs[1]!.contradiction > 0.95, 'not → contradiction');
      assert.ok(probs[2]!.neutral > 0.9, 'maybe + [CLS] → neutral');
      assert.ok(Math.abs(probs[3]!.neutral - Math.E / (2 + Math.E)) < 1e-5, 'a padded row is not flipped by [PAD]');
      assert.equal(judge.batches, 1);
    } finally {
      await judge.close();
    }
  }
});

test('verdicts: contradiction → misaligned, entailment → aligned, neutral → uncertain; batches of the set size', async () => {
  const judge = await LocalJudge.open({ dir: modelFolder(true), batchSize: 2 });
  try {
    const items = [subject('the ball is red therefore b', 'B'), subject('the ball is not red', 'B'), subject('maybe the ball', 'C')];
    const seen: number[] = [];
    const out = await judge.judgeAll(items, { onOutcome: (_o, i) => seen.push(i) });
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(judge.batches, 2, 'three items in batches of two');
    const [a, m, u] = out.map((o) => (isFailure(o) ? assert.fail(o.reason) : o));
    assert.deepEqual([a!.aligns, a!.type, a!.tier], [true, null, 'local']);
    assert.deepEqual([m!.aligns, m!.type], [false, 'contradiction']);
    assert.deepEqual([u!.aligns, u!.type], [null, null]);
    assert.match(m!.why, /contradicts "The answer is B\." \(\d+%\)/);
    assert.match(a!.model, /^local:tiny-nli-/);
  } finally {
    await judge.close();
  }
});

test('long reasoning is cut from the start to fit max_position_embeddings, keeping its conclusion', async () => {
  // 16 positions: [CLS] premise [SEP] the answer is b . [SEP] leaves 8 for the premise.
  const judge = await LocalJudge.open({ dir: modelFolder(false, 16) });
  try {
    const long = `${'the ball is not red . '.repeat(20)}the ball therefore b`;
    const [p] = await judge.classify([[long, 'The answer is b.']]);
    // Untruncated, twenty "not" votes would win; cut, only "therefore" and [CLS] vote: [0, 3, 1].
    const want = Math.exp(3) / (1 + Math.exp(3) + Math.E);
    assert.ok(Math.abs(p!.entailment - want) < 1e-5, `the kept end decides: ${JSON.stringify(p)}`);
  } finally {
    await judge.close();
  }
});

test('rules>local: rules settle what they can, the local model gets only the uncertain', async () => {
  const local = await LocalJudge.open({ dir: modelFolder(true) });
  try {
    const items = [
      { completion: c('the ball is red so the answer is B.', 'B'), question: 'q' },
      { completion: c('the ball is not red', 'B'), question: 'q' },
    ];
    const out = await judgeCompletions(items, 'rules>local', { rules: new RulesJudge(), local });
    assert.deepEqual(out.map((r) => r.verdict?.tier), ['rules', 'local']);
    assert.equal(out[1]!.verdict?.aligns, false);
    assert.equal(local.batches, 1);
  } finally {
    await local.close();
  }
});

test('a model folder with missing files or unusable labels is refused with the reason', () => {
  const dir = modelFolder(false);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ id2label: { '0': 'LABEL_0', '1': 'LABEL_1' } }));
  assert.throws(() => readModelFolder(dir), /id2label must name entailment, neutral and contradiction/);
  assert.throws(() => readModelFolder(join(dir, 'nope')), /has no model\.onnx/);
  const info = readModelFolder(modelFolder(false));
  assert.deepEqual(info.labels, ['contradiction', 'entailment', 'neutral']);
  assert.equal(info.maxLength, 64);
});

test('the CLI runs the local tier from a model folder (child process, worker thread inside)', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = modelFolder(true);
  const runDir = mkdtempSync(join(tmpdir(), 'judge-local-cli-'));
  const file = join(runDir, 'run.jsonl');
  writeFileSync(file, [c('the ball is red so the answer is B.', 'B'), c('the ball is not red', 'B'), c('maybe', 'C')].map((completion) => JSON.stringify({ v: 1, completion })).join('\n') + '\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'judge', file, '--tier', 'rules>local', '--local-model', dir, '--json'], {
    cwd: join(__dirname, '../..'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const summary = lines.pop()!;
  assert.deepEqual(lines.map((l) => [l.line, l.tier, l.aligns]), [[1, 'rules', true], [2, 'local', false], [3, 'local', null]]);
  assert.deepEqual([summary.aligned, summary.misaligned, summary.unparseable, summary.calls], [1, 1, 1, 0]);
});
