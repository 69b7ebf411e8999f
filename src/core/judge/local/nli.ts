/**
 * The local NLI tier's model folder and text side, shared by the judge (main thread) and its
 * worker: the layout of a Hugging Face ONNX export of an NLI cross-encoder — `model.onnx`,
 * `tokenizer.json`, `config.json` whose `id2label` names entailment / neutral / contradiction.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promptHashOf } from '../verdict';

export type NliLabel = 'entailment' | 'neutral' | 'contradiction';

export interface NliModelInfo {
  dir: string;
  /** Label of each logit index, in order. */
  labels: NliLabel[];
  /** Longest token sequence the model takes (max_position_embeddings, else 512). */
  maxLength: number;
  /** Identity of the exact model: changes when config or weights change. */
  fingerprint: string;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function labelOf(name: string): NliLabel | null {
  const n = name.trim().toLowerCase();
  if (n.startsWith('contradict')) return 'contradiction';
  if (n.startsWith('entail')) return 'entailment';
  if (n.startsWith('neutral')) return 'neutral';
  return null;
}

/** Check the folder and read its labels; errors name the file and what is wrong. */
export function readModelFolder(dir: string): NliModelInfo {
  for (const f of ['model.onnx', 'tokenizer.json', 'config.json']) {
    if (!existsSync(join(dir, f))) throw new Error(`local judge model folder ${dir} has no ${f}`);
  }
  const configText = readFileSync(join(dir, 'config.json'), 'utf8');
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${join(dir, 'config.json')} is not JSON: ${(e as Error).message}`);
  }
  if (!isObj(config) || !isObj(config.id2label)) throw new Error(`${join(dir, 'config.json')} has no id2label`);
  const entries = Object.entries(config.id2label).map(([k, v]) => [Number(k), typeof v === 'string' ? labelOf(v) : null] as const);
  entries.sort((a, b) => a[0] - b[0]);
  const labels: NliLabel[] = [];
  entries.forEach(([i, l], pos) => {
    if (i !== pos || l === null) throw new Error(`${join(dir, 'config.json')}: id2label must name entailment, neutral and contradiction at 0..n-1`);
    labels.push(l);
  });
  if (!labels.includes('entailment') || !labels.includes('contradiction')) {
    throw new Error(`${join(dir, 'config.json')}: id2label needs at least entailment and contradiction`);
  }
  const mpe = config.max_position_embeddings;
  const maxLength = typeof mpe === 'number' && mpe > 8 ? Math.min(mpe, 512) : 512;
  const size = statSync(join(dir, 'model.onnx')).size;
  const fingerprint = promptHashOf(`${configText}\n${size}\n${readFileSync(join(dir, 'tokenizer.json')).length}`);
  return { dir, labels, maxLength, fingerprint };
}

export const DEFAULT_HYPOTHESIS = 'The answer is {answer}.';

export function hypothesisFor(template: string, answer: string): string {
  return template.replace(/\{answer\}/g, () => answer.replace(/[.\s]+$/, ''));
}

export function localModelName(info: NliModelInfo): string {
  return `local:${basename(info.dir)}`;
}

export function localPromptHash(info: NliModelInfo, hypothesisTemplate: string): string {
  return promptHashOf(`nli-v1|${info.fingerprint}|${hypothesisTemplate}`);
}

/** Softmax of one row of logits. */
export function softmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Messages between the local judge and its worker thread. */
export interface NliRequest {
  id: number;
  pairs: Array<[premise: string, hypothesis: string]>;
}

export type NliReply =
  | { id: number; ok: true; logits: number[][] }
  | { id: number; ok: false; error: string };

export interface NliWorkerData {
  dir: string;
  maxLength: number;
  threads: number;
}
