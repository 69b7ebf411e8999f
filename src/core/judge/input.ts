/**
 * Turn a completion into what every tier reads: the reasoning, the final answer and the boxes,
 * split once by the chain parser.
 */
import { parseChain } from '../chain/parse';
import type { ParsedChain } from '../chain/types';
import type { PreparedItem } from './llm';
import type { JudgeItem } from './verdict';

export interface JudgeSubject extends PreparedItem {
  chain: ParsedChain;
  /** False when no final answer could be found: every tier calls that unparseable. */
  hasAnswer: boolean;
}

/**
 * Reasoning: the <think> text, else everything before the answer. Answer: the <answer> text,
 * else whatever follows </think>. A completion with neither tag has no answer we can point at.
 */
export function prepare(item: JudgeItem): JudgeSubject {
  const chain = parseChain(item.completion);
  const text = item.completion;
  let reasoning = chain.think;
  let answer = chain.answer;
  if (answer === null) {
    const close = text.lastIndexOf('</think>');
    if (close >= 0) answer = text.slice(close + '</think>'.length).replace(/<\/?answer>/g, '');
  }
  if (reasoning === null) {
    const open = text.indexOf('<answer>');
    reasoning = (open >= 0 ? text.slice(0, open) : answer === null ? text : '').replace(/<\/?think>/g, '');
  }
  const a = (answer ?? '').trim();
  return { ...item, chain, hasAnswer: a !== '', input: { question: item.question, reasoning: reasoning.trim(), answer: a } };
}
