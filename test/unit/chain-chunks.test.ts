/**
 * How a chain's tokens are cut into the chunks the viewer draws one at a time
 * (webview/viewer/chain-chunks.ts): nothing lost or repeated, cuts after line breaks where one is
 * near, a long line sliced at the chunk size, box ids per chunk for hover re-draws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_CHARS, chunkTokens, firstChunks } from '../../webview/viewer/chain-chunks';
import { longTokens } from '../webview/long-chain';
import { tokens } from '../webview/fixtures';

const textOf = (chunks: ReturnType<typeof chunkTokens>) => chunks.map((c) => c.parts.map((p) => p.text).join('')).join('');

test('a 2 MB runaway chain: every character once, in order, chunks end at line breaks', () => {
  const t = longTokens(2_000_000);
  const chunks = chunkTokens(t);
  assert.equal(textOf(chunks), t.map((x) => x.text).join(''));
  assert.ok(chunks.length > 200);
  for (const c of chunks.slice(0, -1)) {
    assert.ok(c.chars >= CHUNK_CHARS && c.chars <= CHUNK_CHARS + 2000 + 200, `chunk of ${c.chars} chars`);
    assert.ok(c.parts.at(-1)!.text.endsWith('\n'), 'ends after a line break');
  }
  assert.ok(chunks.every((c) => c.boxIds.has(0)), 'every chunk knows it holds box 0');
  assert.equal(firstChunks(chunks), 1, 'one chunk is the first screen');
});

test('one long line is sliced at the chunk size; a short chain is one chunk', () => {
  const line = tokens([{ kind: 'tag', text: '<think>' }, { kind: 'text', region: 'think', text: 'x'.repeat(50_000) }, { kind: 'tag', text: '</think>' }]);
  const chunks = chunkTokens(line);
  assert.equal(textOf(chunks), line.map((x) => x.text).join(''));
  assert.ok(chunks.every((c) => c.chars <= CHUNK_CHARS + 2000 + 8), chunks.map((c) => c.chars).join(','));
  assert.ok(chunks.length >= 50_000 / (CHUNK_CHARS + 2000));
  const short = tokens([{ kind: 'tag', text: '<think>' }, { kind: 'text', region: 'think', text: 'see ' },
    { kind: 'box', region: 'think', text: '[1,2,3,4 dog]', boxId: 3 }, { kind: 'tag', text: '</think>' }]);
  const one = chunkTokens(short);
  assert.equal(one.length, 1);
  assert.deepEqual([...one[0]!.boxIds], [3]);
  assert.equal(one[0]!.parts.length, 4, 'tokens kept whole');
  assert.deepEqual(chunkTokens([]), []);
  assert.equal(firstChunks([]), 0);
});
