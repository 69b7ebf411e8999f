/**
 * A tiny NLI cross-encoder folder built here with onnx-proto (no download), in the layout of a
 * Hugging Face ONNX export: `model.onnx`, `tokenizer.json`, `config.json` with `id2label`.
 * logits = Σ over unmasked tokens of a per-token vote row (Gather + mask + ReduceSum), so hand-
 * picked words give known labels. The [PAD] row votes hard for "contradiction": if padding were
 * not masked in a batch, short pairs would flip.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'answer', 'is', '.', 'therefore', 'not', 'maybe', 'ball', 'red', 'b', 'c', '##s'];
// Label order as many NLI cross-encoders write it: 0 contradiction, 1 entailment, 2 neutral.
export const ID2LABEL = { '0': 'CONTRADICTION', '1': 'ENTAILMENT', '2': 'NEUTRAL' };
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

export function buildModel(withTokenTypes: boolean): Uint8Array {
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
export function tokenizerJson(): Record<string, unknown> {
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

export function modelFolder(withTokenTypes: boolean, maxPositions = 64): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-nli-'));
  writeFileSync(join(dir, 'model.onnx'), buildModel(withTokenTypes));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['TinyNli'], id2label: ID2LABEL, max_position_embeddings: maxPositions }));
  return dir;
}
