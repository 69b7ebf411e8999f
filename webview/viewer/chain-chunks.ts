/**
 * Cuts a chain's tokens into chunks of about CHUNK_CHARS characters, so a long chain (a 2 MB
 * repetition loop) is drawn a chunk at a time: the first screen at once, the rest as it scrolls
 * near or the page is idle (chain-view.ts). Each chunk is a block of its own, so a chunk ends
 * after a line break where one comes soon enough (the cut is then invisible); a text or step
 * token longer than a chunk is sliced. Concatenated, the chunks' texts are the tokens' texts.
 */
import type { ChainToken } from '../../src/protocol/viewer';

/** Characters per chunk. */
export const CHUNK_CHARS = 6000;
/** Characters drawn at once when a chain is shown: a screen of the widest column, and more. */
export const FIRST_CHARS = 6000;
/** How far past CHUNK_CHARS a chunk may run while waiting for a line break. */
const SLACK = 2000;

export interface ChainPart {
  token: ChainToken;
  /** The token's text, or a slice of it when the token was cut. */
  text: string;
}

export interface ChainChunk {
  parts: ChainPart[];
  /** Box ids in this chunk: a hover re-draws only the chunks holding the box. */
  boxIds: Set<number>;
  chars: number;
}

const sliceable = (t: ChainToken) => t.kind === 'text' || t.kind === 'step';

export function chunkTokens(tokens: readonly ChainToken[], size = CHUNK_CHARS): ChainChunk[] {
  const chunks: ChainChunk[] = [];
  let cur: ChainChunk = { parts: [], boxIds: new Set(), chars: 0 };
  const close = () => {
    if (cur.parts.length) chunks.push(cur);
    cur = { parts: [], boxIds: new Set(), chars: 0 };
  };
  const add = (token: ChainToken, text: string) => {
    cur.parts.push({ token, text });
    cur.chars += text.length;
    if (token.kind === 'box') cur.boxIds.add(token.boxId);
  };
  for (const t of tokens) {
    let text = t.text;
    // A text longer than the chunk's room is sliced: after the last line break that fits (the
    // chunk holds less than size + SLACK here), else mid-line at the chunk's size.
    while (sliceable(t) && cur.chars + text.length > size + SLACK) {
      const limit = size + SLACK - cur.chars;
      const nl = text.lastIndexOf('\n', limit - 1);
      const cut = nl >= 0 ? nl + 1 : cur.chars >= size ? 0 : size - cur.chars;
      if (cut > 0) add(t, text.slice(0, cut));
      text = text.slice(cut);
      close();
    }
    add(t, text);
    if (cur.chars >= size + SLACK || (cur.chars >= size && text.endsWith('\n'))) close();
  }
  close();
  return chunks;
}

/** How many chunks to draw at once: those holding the first FIRST_CHARS characters. */
export function firstChunks(chunks: readonly ChainChunk[], chars = FIRST_CHARS): number {
  let n = 0;
  let seen = 0;
  while (n < chunks.length && seen < chars) seen += chunks[n++]!.chars;
  return n;
}
