/**
 * A group whose first completion is a runaway chain (a repetition loop of about `bytes`): lines
 * of reasoning, a step marker every few lines and a box every so often, as a degenerate policy
 * writes them. The other three completions are the regular fixtures'.
 */
import type { ChainToken, GroupDetail, ImageView } from '../../src/protocol/viewer';
import { detail, tokens } from './fixtures';

export const LONG_KEY = '9/0';
export const SHORT_KEY = '9/1';

/** The runaway chain's tokens: `<think>`, ~`bytes` of lines, `</think><answer>D</answer>`. */
export function longTokens(bytes: number): ChainToken[] {
  const pieces: Parameters<typeof tokens>[0] = [{ kind: 'tag', text: '<think>' }];
  let n = 0;
  let size = 0;
  while (size < bytes) {
    const line = `Wait, let me check the position of the dog again (pass ${n}): it is near the ball, `;
    if (n % 8 === 0) pieces.push({ kind: 'step', region: 'think', text: `Step ${n / 8 + 1}:` });
    pieces.push({ kind: 'text', region: 'think', text: ` ${line}` });
    if (n % 5 === 0) pieces.push({ kind: 'box', region: 'think', text: '[100,120,300,360 dog]', boxId: 0 });
    pieces.push({ kind: 'text', region: 'think', text: '\n' });
    size += line.length + 40;
    n++;
  }
  pieces.push({ kind: 'tag', text: '</think>' }, { kind: 'text', region: 'outside', text: ' ' }, { kind: 'tag', text: '<answer>' },
    { kind: 'text', region: 'answer', text: 'D' }, { kind: 'tag', text: '</answer>' });
  return tokens(pieces);
}

/** `key`'s group with completion 0 replaced by a chain of about `bytes`. */
export function longDetail(key: string, image: ImageView | null, bytes: number): GroupDetail {
  const d = detail(key, image);
  const toks = longTokens(bytes);
  const text = toks.map((t) => t.text).join('');
  d.completions[0] = { ...d.completions[0]!, tokens: toks, text, chars: text.length, words: text.split(/\s+/).length };
  return d;
}
