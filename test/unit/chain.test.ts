import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChain, formatMatches } from '../../src/core/chain/parse';
import type { ChainToken, ParsedChain } from '../../src/core/chain/types';
import { completionText, type CompletionSegmentInput } from '../../src/core/schema/record';

/** The invariants every parse must keep: tokens tile the text exactly, boxes and box tokens agree. */
function checkTiling(chain: ParsedChain, text: string): void {
  assert.equal(chain.tokens.map((t) => t.text).join(''), text);
  let at = 0;
  for (const t of chain.tokens) {
    assert.equal(t.start, at, `token ${JSON.stringify(t.text)} starts at ${t.start}, expected ${at}`);
    assert.ok(t.end > t.start, 'no empty tokens');
    assert.equal(text.slice(t.start, t.end), t.text);
    at = t.end;
  }
  assert.equal(at, text.length);
  const boxTokens = chain.tokens.filter((t): t is Extract<ChainToken, { kind: 'box' }> => t.kind === 'box');
  assert.equal(boxTokens.length, chain.boxes.length);
  chain.boxes.forEach((b, i) => {
    assert.equal(b.id, i);
    const t = boxTokens[i]!;
    assert.equal(t.boxId, i);
    assert.deepEqual([t.start, t.end, t.region], [b.start, b.end, b.region]);
    assert.ok(b.coords.every(Number.isFinite));
  });
}

function parse(text: string): ParsedChain {
  const c = parseChain(text);
  checkTiling(c, text);
  return c;
}

const kinds = (c: ParsedChain): string[] => c.tokens.map((t) => `${t.kind}:${t.text}`);

test('seed chain: tags, one labelled box with its exact span, think/answer inner text', () => {
  const text = '<think>Look [58,109,346,407 motorcyclist] here</think> <answer>D</answer>';
  const c = parse(text);
  assert.deepEqual(kinds(c), [
    'tag:<think>', 'text:Look ', 'box:[58,109,346,407 motorcyclist]', 'text: here', 'tag:</think>',
    'text: ', 'tag:<answer>', 'text:D', 'tag:</answer>',
  ]);
  assert.deepEqual(c.boxes, [
    { id: 0, label: 'motorcyclist', coords: [58, 109, 346, 407], point: false, syntax: 'seed', region: 'think', start: 12, end: 41 },
  ]);
  assert.equal(c.think, 'Look [58,109,346,407 motorcyclist] here');
  assert.equal(c.answer, 'D');
  assert.equal(c.formatOk, true);
  assert.deepEqual(c.violations, []);
  assert.deepEqual(c.tokens.map((t) => [t.start, t.end]), [[0, 7], [7, 12], [12, 41], [41, 46], [46, 54], [54, 55], [55, 63], [63, 64], [64, 73]]);
});

test('seed syntax with decimals and a padded two-word label; bare list has a null label', () => {
  const c = parse('<think>[1.5,2,30.25,40   red car ] and [10, 20, 30, 40]</think>');
  assert.equal(c.boxes.length, 2);
  assert.deepEqual(c.boxes[0]!.coords, [1.5, 2, 30.25, 40]);
  assert.equal(c.boxes[0]!.label, 'red car');
  assert.equal(c.boxes[0]!.syntax, 'seed');
  assert.deepEqual([c.boxes[0]!.start, c.boxes[0]!.end], [7, 34]);
  assert.deepEqual(c.boxes[1], { id: 1, label: null, coords: [10, 20, 30, 40], point: false, syntax: 'bare', region: 'think', start: 39, end: 55 });
});

test('Qwen2.5-VL JSON array in a ```json fence: one box token per object, point_2d becomes a point', () => {
  const text = '<think>x</think><answer>```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "cat"}, {"point_2d": [5, 6], "label": " dog "}]\n```</answer>';
  const c = parse(text);
  assert.deepEqual(c.boxes, [
    { id: 0, label: 'cat', coords: [10, 20, 30, 40], point: false, syntax: 'qwen25-json', region: 'answer', start: 33, end: 78 },
    { id: 1, label: 'dog', coords: [5, 6, 5, 6], point: true, syntax: 'qwen25-json', region: 'answer', start: 80, end: 118 },
  ]);
  assert.deepEqual(kinds(c).slice(3), [
    'tag:<answer>', 'text:```json\n[', `box:{"bbox_2d": [10, 20, 30, 40], "label": "cat"}`, 'text:, ',
    `box:{"point_2d": [5, 6], "label": " dog "}`, 'text:]\n```', 'tag:</answer>',
  ]);
  assert.equal(c.formatOk, true);
});

test('bare JSON object with label first, and a near-JSON object with a trailing comma', () => {
  const c = parse('{"label": "mug", "bbox_2d": [1, 2, 3, 4]} then {"bbox_2d": [5, 6, 7, 8], "label": "cup",}');
  assert.deepEqual(c.boxes.map((b) => [b.label, b.coords, b.syntax, b.start, b.end]), [
    ['mug', [1, 2, 3, 4], 'qwen25-json', 0, 41],
    ['cup', [5, 6, 7, 8], 'qwen25-json', 47, 89],
  ]);
});

test('Qwen-VL <ref><box> and a <box> without ref', () => {
  const c = parse('See <ref>the cat</ref><box>(100,200),(300,400)</box> and <box>(1, 2), (3, 4)</box>');
  assert.deepEqual(c.boxes, [
    { id: 0, label: 'the cat', coords: [100, 200, 300, 400], point: false, syntax: 'qwen-ref', region: 'outside', start: 4, end: 52 },
    { id: 1, label: null, coords: [1, 2, 3, 4], point: false, syntax: 'qwen-ref', region: 'outside', start: 57, end: 82 },
  ]);
});

test('Qwen2-VL special tokens, with and without object_ref', () => {
  const ref = '<|object_ref_start|>dog<|object_ref_end|><|box_start|>(1,2),(998,999)<|box_end|>';
  assert.equal(ref.length, 80);
  const c = parse(`${ref} <|box_start|>(10,20),(30,40)<|box_end|>`);
  assert.deepEqual(c.boxes, [
    { id: 0, label: 'dog', coords: [1, 2, 998, 999], point: false, syntax: 'qwen2-special', region: 'outside', start: 0, end: 80 },
    { id: 1, label: null, coords: [10, 20, 30, 40], point: false, syntax: 'qwen2-special', region: 'outside', start: 81, end: 120 },
  ]);
});

test('things that are not boxes stay text: wrong arity, NaN, Infinity, non-numeric bbox_2d', () => {
  for (const text of [
    '[1,2,3]', '[1,2,3,4,5]', '[NaN, 1, 2, 3]', '[Infinity,1,2,3 x]', '{"bbox_2d":[1,2,3],"label":"x"}',
    '{"bbox_2d":[1e999,2,3,4],"label":"x"}', '{"point_2d":[1,2,3],"label":"x"}', '<box>(1,2)</box>', '[1,2,3,4 ]x',
  ]) {
    const c = parse(text);
    assert.equal(c.boxes.length, text === '[1,2,3,4 ]x' ? 1 : 0, text);
  }
  // A whitespace-only seed label is no label: the box is bare.
  assert.equal(parse('[1,2,3,4 ]').boxes[0]!.syntax, 'bare');
});

test('a rejected JSON candidate still lets a bare list inside it be found', () => {
  const c = parse('{"bbox_2d": "none", "box": [1, 2, 3, 4]}');
  assert.deepEqual(c.boxes.map((b) => [b.syntax, b.coords, b.start, b.end]), [['bare', [1, 2, 3, 4], 27, 39]]);
});

test('step boundaries at line start: "Step N:", "N.", "N)", not decimals or mid-line numbers', () => {
  const text = '<think>Step 1: look\n2. then\n  3) more\nStep 4. end 1.5 apples, see 5. later\n7.5 kg</think>';
  const c = parse(text);
  const steps = c.tokens.filter((t) => t.kind === 'step');
  assert.deepEqual(steps.map((t) => [t.text, t.start]), [['Step 1:', 7], ['2.', 20], ['3)', 30], ['Step 4.', 38]]);
  assert.ok(steps.every((t) => t.kind === 'step' && t.region === 'think'));
});

test('SEED-LLaMA generated image: <img> + codes + </img> becomes one image token', () => {
  const c = parse('<think>draw <img><img_00012> <img_00345></img> done</think><answer>a</answer>');
  const img = c.tokens[2]!;
  assert.deepEqual(img, {
    kind: 'image', region: 'think', text: '<img><img_00012> <img_00345></img>', start: 12, end: 46, path: null, codes: [12, 345],
  });
  // Unbalanced tags are left as text.
  assert.equal(parse('<img><img_00001>').tokens.filter((t) => t.kind === 'image').length, 0);
});

test('segment list: text is completionText, image segments become image tokens with their path', () => {
  const segs: CompletionSegmentInput[] = [
    { type: 'text', text: '<think>a ' },
    { type: 'image', path: 'gen/1.png' },
    { type: 'text', text: ' b [1,2,3,4 x]</think><answer>c</answer>' },
    // A path with '>' could never be recovered from the text alone; the segment boundary says where it ends.
    { type: 'image', path: 'odd>name.png' },
  ];
  const text = completionText({ v: 1, completion: segs });
  const c = parseChain(segs);
  checkTiling(c, text);
  const images = c.tokens.filter((t) => t.kind === 'image');
  assert.deepEqual(images, [
    { kind: 'image', region: 'think', text: '<image:gen/1.png>', start: 9, end: 26, path: 'gen/1.png', codes: null },
    { kind: 'image', region: 'outside', text: '<image:odd>name.png>', start: text.length - 20, end: text.length, path: 'odd>name.png', codes: null },
  ]);
  assert.deepEqual(c.boxes.map((b) => [b.label, b.start]), [['x', 29]]);
  assert.equal(c.think, 'a <image:gen/1.png> b [1,2,3,4 x]');
  // The same text given as a string finds the first marker by its syntax.
  assert.equal(parseChain(text).tokens.filter((t) => t.kind === 'image')[0]!.text, '<image:gen/1.png>');
});

test('tags with newlines are well formed; think/answer are not stripped', () => {
  const c = parse('<think>\nline1\nline2\n</think>\n\n<answer>\nB\n</answer>\n ');
  assert.equal(c.formatOk, true);
  assert.equal(c.think, '\nline1\nline2\n');
  assert.equal(c.answer, '\nB\n');
  assert.deepEqual(c.violations, []);
});

test('text before <think>, whitespace before <think>, text after </answer>', () => {
  const before = parse('Sure! <think>a</think><answer>b</answer>');
  assert.equal(before.formatOk, false);
  assert.equal(before.think, 'a');
  assert.deepEqual(before.violations, ['Text before <think> at offset 0: "Sure!".']);

  const ws = parse(' <think>a</think><answer>b</answer>');
  assert.equal(ws.formatOk, false);
  assert.equal(ws.violations.length, 1);
  assert.match(ws.violations[0]!, /Whitespace before <think>/);

  const after = parse('<think>a</think><answer>b</answer> extra');
  assert.equal(after.formatOk, false);
  assert.deepEqual(after.violations, ['Text after </answer> at offset 34: "extra".']);

  const between = parse('<think>a</think> so <answer>b</answer>');
  assert.equal(between.formatOk, false);
  assert.deepEqual(between.violations, ['Text between </think> and <answer> at offset 16: "so".']);
});

test('unclosed tags, missing blocks, stray closers, repeated blocks', () => {
  const open = parse('<think>abc');
  assert.equal(open.think, null);
  assert.equal(open.formatOk, false);
  assert.deepEqual(open.violations, ['<think> opened at offset 0 is never closed.', 'There is no <answer> block.']);
  assert.equal(open.tokens[1]!.kind === 'text' && open.tokens[1]!.region, 'think');

  const openAnswer = parse('<think>a</think><answer>b');
  assert.equal(openAnswer.answer, null);
  assert.deepEqual(openAnswer.violations, ['<answer> opened at offset 16 is never closed.']);

  const stray = parse('</think>x');
  assert.deepEqual(stray.violations.slice(0, 2), ['</think> at offset 0 closes nothing.', 'Text before <think> at offset 8: "x".']);

  const twice = parse('<think>a</think><answer>b</answer><think>c</think><answer>d</answer>');
  assert.equal(twice.think, 'a');
  assert.equal(twice.answer, 'b');
  assert.equal(twice.formatOk, false);
  assert.ok(twice.violations.includes('A second <think> block starts at offset 34; only the first one counts.'));
  assert.ok(twice.violations.includes('A second <answer> block starts at offset 50; only the first one counts.'));

  const none = parse('just text');
  assert.deepEqual(none.violations, ['Text before <think> at offset 0: "just text".', 'There is no <think> block.', 'There is no <answer> block.']);
  assert.deepEqual(parse('').tokens, []);
});

test('formatOk follows the seed regex (lazy, anchored) plus nothing but whitespace after', () => {
  // The seed regex's lazy think absorbs a stray </think>; the format passes, but the extra tag is still reported.
  const c = parse('<think>a</think> x </think><answer>b</answer>');
  assert.equal(c.formatOk, true);
  assert.equal(formatMatches('<think>a</think><answer>b</answer> c </answer>'), false);
  assert.equal(formatMatches('<think></think><answer></answer>'), true);
  assert.equal(formatMatches('<THINK>a</THINK><answer>b</answer>'), false);
});

test('violations are capped so hostile input cannot grow them without bound', () => {
  const c = parse('</think>'.repeat(100));
  assert.equal(c.violations.length, 21);
  assert.match(c.violations[20]!, /more problems/);
});

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  '<think>', '</think>', '<answer>', '</answer>', '<think', 'answer>', '[1,2,3,4 cat]', '[10, 20, 30, 40]', '[1,2',
  ',3,4]', ' dog]', '{"bbox_2d": [1, 2, 3, 4], "label": "x"}', '{"bbox_2d":', '{"point_2d": [5, 6]}', '}', '{', '[', ']',
  '<ref>a</ref>', '<box>(1,2),(3,4)</box>', '<box>', '(1,2),(3,4)', '</box>', '<|object_ref_start|>', 'b', '<|object_ref_end|>',
  '<|box_start|>', '<|box_end|>', '<img>', '<img_00001>', '</img>', '<image:p.png>', '<image:', 'Step 1:', '\n', '1. ', '2) ',
  ' ', 'x', '"', ',', '0.5', '-3', 'NaN', 'é', '😀', '\t', '```json\n',
];

test('concatenation invariant on 500 random strings built from tag/box fragments (and as segments)', () => {
  const next = rng(12345);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  for (let n = 0; n < 500; n++) {
    const parts: string[] = [];
    const len = Math.floor(next() * 30);
    for (let i = 0; i < len; i++) parts.push(next() < 0.1 ? String.fromCharCode(Math.floor(next() * 128)) : pick(FRAGMENTS));
    const text = parts.join('');
    const c = parse(text);
    assert.equal(typeof c.formatOk, 'boolean');
    if (c.formatOk) assert.ok(c.think !== null && c.answer !== null, text);
    else assert.ok(c.violations.length > 0, `no reason given why ${JSON.stringify(text)} is not well formed`);
    if (n % 5 === 0) {
      const segs: CompletionSegmentInput[] = parts.map((p) => (next() < 0.2 ? { type: 'image', path: p } : { type: 'text', text: p }));
      checkTiling(parseChain(segs), completionText({ v: 1, completion: segs }));
    }
  }
});

test('pathological inputs finish and keep the invariant', () => {
  const inputs = [
    '[1,2,3,4 x'.repeat(5000),
    '{"bbox_2d"'.repeat(5000),
    '<|box_start|>(1,2),'.repeat(5000),
    '\n   '.repeat(20000),
    '<img>' + '<img_1>'.repeat(20000),
    '{'.repeat(50000),
  ];
  for (const text of inputs) parse(text);
});
