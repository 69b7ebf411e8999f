/**
 * Hand-built host payloads for the webview tests: a list of groups and a few GroupDetails with
 * known geometry on an 800x600 test image, plus strings that would run script if they were ever
 * treated as markup.
 */
import { PNG } from 'pngjs';
import type { ChainToken, ChainRegion } from '../../src/core/chain/types';
import type { CompletionView, DrawBox, GroupDetail, GroupRow, ImageView, ValuePair } from '../../src/protocol/viewer';
import { factViews } from '../../src/core/view/facts';

export const IMAGE_W = 800;
export const IMAGE_H = 600;

export const HOSTILE = {
  img: '<img src=x onerror="window.__pwned=1">',
  script: '<script>window.__pwned=1</script>',
  js: 'javascript:window.__pwned=1',
  svg: '<svg onload="window.__pwned=1"></svg>',
};

/** An 800x600 PNG: a dark gradient with a lighter block where the gold box is. */
export function testPng(): Buffer {
  const png = new PNG({ width: IMAGE_W, height: IMAGE_H });
  for (let y = 0; y < IMAGE_H; y++) {
    for (let x = 0; x < IMAGE_W; x++) {
      const i = (y * IMAGE_W + x) * 4;
      const inBlock = x >= 110 && x < 310 && y >= 130 && y < 350;
      png.data[i] = inBlock ? 170 : 40 + Math.floor((x / IMAGE_W) * 50);
      png.data[i + 1] = inBlock ? 140 : 60 + Math.floor((y / IMAGE_H) * 60);
      png.data[i + 2] = inBlock ? 90 : 90;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

type Piece =
  | { kind: 'tag'; text: string }
  | { kind: 'text' | 'step'; region: ChainRegion; text: string }
  | { kind: 'box'; region: ChainRegion; text: string; boxId: number }
  | { kind: 'image'; region: ChainRegion; text: string; path: string | null; codes: number[] | null };

/** Tokens with start/end laid end to end, as the chain parser would return them. */
export function tokens(pieces: Piece[]): ChainToken[] {
  let at = 0;
  return pieces.map((p) => {
    const t = { ...p, start: at, end: at + p.text.length } as ChainToken;
    at += p.text.length;
    return t;
  });
}

const pair = (name: string, logged: number | null, recomputed: number | null): ValuePair => ({
  name, logged, recomputed, mismatch: logged !== null && recomputed !== null && Math.abs(logged - recomputed) > 1e-9,
});

const box = (id: number, label: string, b: [number, number, number, number], extra: Partial<DrawBox> = {}): DrawBox => ({
  id, label, box: b, point: false, iou: null, gold: null, region: 'think', outside: false, ...extra,
});

/** Predicted boxes per completion: completion k's dog box is shifted 20k px right. */
export function predBox(k: number): [number, number, number, number] {
  return [100 + 20 * k, 120, 300 + 20 * k, 360];
}

/** Completion 0's `tags`: a list whose JSON is longer than a card shows. */
export const LONG_TAGS = Array.from({ length: 30 }, (_, i) => `tag${i}`);

/** Completion k's record `meta`, as an adapter would write it (verl's acc/pred, lists, dicts, null). */
export function factsMeta(k: number, hostile: boolean): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    acc: k !== 1,
    pred: k === 1 ? 'C' : 'D',
    score_extra: [0.5, 0.25, 0, -1][k],
    tags: k === 0 ? LONG_TAGS : ['dog'],
    info: { iou: 0.8, n: 2 },
    missing: null,
  };
  if (hostile && k === 0) meta[HOSTILE.img] = HOSTILE.script;
  return meta;
}

function completion(k: number, hostile: boolean): CompletionView {
  const [x1, y1, x2, y2] = predBox(k);
  const label = hostile && k === 0 ? HOSTILE.img : 'dog';
  const toks = tokens([
    { kind: 'tag', text: '<think>' },
    { kind: 'step', region: 'think', text: 'Step 1:' },
    { kind: 'text', region: 'think', text: ` The ${hostile && k === 0 ? HOSTILE.script : 'animal'} sits at ` },
    { kind: 'box', region: 'think', text: `[${x1},${y1},${x2},${y2} ${label}]`, boxId: 0 },
    { kind: 'text', region: 'think', text: ' and a ball lies near ' },
    { kind: 'box', region: 'think', text: '[520,210,600,290 ball]', boxId: 1 },
    { kind: 'text', region: 'think', text: '.' },
    { kind: 'tag', text: '</think>' },
    { kind: 'text', region: 'outside', text: k === 2 ? ' stray words ' : ' ' },
    { kind: 'tag', text: '<answer>' },
    { kind: 'text', region: 'answer', text: hostile && k === 1 ? HOSTILE.js : 'D' },
    { kind: 'tag', text: '</answer>' },
  ]);
  const text = toks.map((t) => t.text).join('');
  const accuracy = k === 1 ? pair('accuracy', 1, 0) : pair('accuracy', 1, 1);
  return {
    file: '/runs/demo/rollouts.jsonl',
    line: 10 + k,
    index: k,
    text,
    tokens: toks,
    images: {},
    boxes: [
      box(0, label, [x1, y1, x2, y2], { iou: 0.8 - 0.1 * k, gold: 0 }),
      box(1, 'ball', [520, 210, 600, 290], { iou: null }),
    ],
    rewards: [accuracy, pair('format', k === 2 ? 0 : 1, k === 2 ? 0 : 1), pair('bbox', 0.8 - 0.1 * k, 0.8 - 0.1 * k)],
    reward: pair('reward', 2.8 - 0.1 * k, k === 1 ? 1.7 : 2.8 - 0.1 * k),
    advantage: pair('advantage', 0.5 - 0.3 * k, null),
    // Rendered by the host's own function, as the viewer connection sends them.
    ...factViews(factsMeta(k, hostile)),
    chars: text.length,
    words: text.split(/\s+/).filter(Boolean).length,
    formatOk: k !== 2,
    violations: k === 2 ? ['text outside <think>/<answer>: "stray words"'] : [],
    // 0 aligned, 1 misaligned (its reason hostile in the hostile group), 2 failed, 3 never judged.
    verdict: k === 0 ? { aligns: true, type: null, why: 'The reasoning concludes D.', tier: 'rules' }
      : k === 1 ? { aligns: false, type: 'contradiction', why: hostile ? `Says ${HOSTILE.img} then ${HOSTILE.script}` : 'The reasoning concludes C, the answer is D.', tier: 'llm' }
      : k === 2 ? { aligns: null, type: null, why: '', tier: 'llm', failed: 'HTTP 500 after 4 attempts' }
      : null,
  };
}

export function detail(key: string, image: ImageView | null, hostile = false): GroupDetail {
  const completions = [0, 1, 2, 3].map((k) => completion(k, hostile));
  // A point on the fourth completion, drawn as a circle.
  completions[3]!.boxes.push(box(2, 'nose', [700, 100, 700, 100], { point: true }));
  return {
    key,
    step: Number(key.split('/')[0]),
    promptText: hostile ? `Which option? ${HOSTILE.img} ${HOSTILE.script} ${HOSTILE.js} ${HOSTILE.svg}` : 'Where is the dog? Answer with the letter and give its box.',
    image,
    gold: [box(0, hostile ? HOSTILE.svg : 'dog', [110, 130, 310, 350])],
    frame: { used: 'abs', detected: 'abs', ambiguous: key === '0/1', resized: null },
    solution: '<answer>D</answer>',
    completions,
    flags: ['reward_mismatch'],
    variant: 'seed',
  };
}

/** `n` groups, 8 per step; group 0's snippet is hostile markup. */
export function groupRows(n: number): GroupRow[] {
  const rows: GroupRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const step = Math.floor(i / 8);
    const lo = (i % 7) / 7;
    rows[i] = {
      key: `${step}/${i % 8}`,
      ordinal: i,
      step,
      promptSnippet: i === 0 ? `Hostile ${HOSTILE.img}` : `Prompt number ${i}: where is the dog?`,
      size: 4,
      rewardMin: lo,
      rewardMax: i % 5 === 0 ? lo : lo + 1.5,
      rewardMean: i % 5 === 0 ? lo : lo + 0.7,
      flags: i % 5 === 0 ? ['zero_variance'] : i % 3 === 0 ? ['format_failure', 'reward_mismatch'] : [],
    };
  }
  return rows;
}

/** A group whose first chain interleaves images: one resolved, one missing, one SEED code image. */
export function detailWithImages(key: string, image: ImageView, generatedSrc: string): GroupDetail {
  const d = detail(key, image);
  const c = d.completions[0]!;
  const codes = Array.from({ length: 32 }, (_, i) => 1000 + i);
  const seed = `<img>${codes.map((n) => `<img_${n}>`).join('')}</img>`;
  c.tokens = tokens([
    { kind: 'tag', text: '<think>' },
    { kind: 'text', region: 'think', text: 'Let me sketch it: ' },
    { kind: 'image', region: 'think', text: '<image:gen/0.png>', path: 'gen/0.png', codes: null },
    { kind: 'text', region: 'think', text: ' then ' },
    { kind: 'image', region: 'think', text: '<image:gen/1.png>', path: 'gen/1.png', codes: null },
    { kind: 'text', region: 'think', text: ' and ' },
    { kind: 'image', region: 'think', text: seed, path: null, codes },
    { kind: 'tag', text: '</think>' },
    { kind: 'tag', text: '<answer>' },
    { kind: 'text', region: 'answer', text: 'D' },
    { kind: 'tag', text: '</answer>' },
  ]);
  const at = (i: number) => c.tokens[i]!.start;
  c.images = {
    [at(2)]: { path: 'gen/0.png', src: generatedSrc, width: 800, height: 600, tried: [] },
    [at(4)]: { path: 'gen/1.png', src: null, width: null, height: null, tried: ['/runs/demo/gen/1.png'] },
  };
  c.text = c.tokens.map((t) => t.text).join('');
  return d;
}
