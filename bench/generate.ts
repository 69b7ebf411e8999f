/**
 * Deterministic rollout data for the benchmarks: seeded, so every run and every machine indexes
 * the same bytes. Records look like the seeds' grounding runs (think/answer chains with boxes,
 * three logged rewards, groups of 8); a few lines drop `group` so derived grouping is exercised.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** mulberry32: small, fast and reproducible across platforms. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('the a person motorcyclist car dog left right above below near holding wearing red blue ' +
  'green small large image shows region answer because there is an object located at which option ' +
  'road street sign tree building window helmet bicycle cup table chair').split(' ');
const LABELS = ['motorcyclist', 'car', 'dog', 'person', 'sign', 'cup', 'helmet'];
const UNICODE = ['café', 'naïve', '東京', 'Größe', 'ñandú', '→', '“quoted”'];

export const GROUP_SIZE = 8;

/** The same question for every completion of a group, as a trainer writes it. */
function promptText(step: number, group: number): string {
  const r = seededRandom(step * 1000 + group);
  let s = `Question ${step}-${group}:`;
  for (let i = 0; i < 25; i++) s += ' ' + WORDS[Math.floor(r() * WORDS.length)]!;
  return s + '? Options: A, B, C, D.';
}

/** One v1 line (no newline) for completion `n` of the benchmark file. */
export function benchLine(n: number, rnd: () => number): string {
  const step = Math.floor(n / 512);
  const groupInStep = Math.floor((n % 512) / GROUP_SIZE);
  const index = n % GROUP_SIZE;
  const words = (k: number): string => {
    let s = '';
    for (let i = 0; i < k; i++) s += (i ? ' ' : '') + (rnd() < 0.01 ? UNICODE[Math.floor(rnd() * UNICODE.length)]! : WORDS[Math.floor(rnd() * WORDS.length)]!);
    return s;
  };
  const box = (): string => {
    const x = Math.floor(rnd() * 500);
    const y = Math.floor(rnd() * 400);
    return `[${x},${y},${x + 20 + Math.floor(rnd() * 120)},${y + 20 + Math.floor(rnd() * 80)} ${LABELS[Math.floor(rnd() * LABELS.length)]}]`;
  };
  const letter = 'ABCD'[Math.floor(rnd() * 4)]!;
  const wellFormed = rnd() < 0.85;
  const think = `${words(30 + Math.floor(rnd() * 60))} ${box()} ${words(10 + Math.floor(rnd() * 30))}\n${words(8)}`;
  const completion = wellFormed ? `<think>${think}</think>\n<answer>${letter}</answer>` : `${think}\nAnswer: ${letter}`;
  const acc = letter === 'A' ? 1 : 0;
  const fmt = wellFormed ? 0.5 : 0;
  const bbox = Math.round(rnd() * 1000) / 1000;
  const rec: Record<string, unknown> = {
    v: 1,
    run: 'bench',
    step,
    group: rnd() < 0.02 ? undefined : `${step}/${groupInStep}`,
    index,
    prompt: { text: promptText(step, groupInStep), images: [`images/${(step * 64 + groupInStep) % 5000}.jpg`] },
    completion,
    solution: `<think>${words(20)} ${box()}</think> <answer>A</answer>`,
    gt_boxes: [{ label: LABELS[groupInStep % LABELS.length], box: [10, 20, 110, 220] }],
    box_frame: 'abs',
    image_size: [640, 480],
    rewards: { accuracy: acc, format: fmt, bbox },
    reward: acc + fmt + bbox,
    advantage: Math.round((rnd() * 4 - 2) * 1e6) / 1e6,
    meta: { temperature: 1, tokens: 50 + Math.floor(rnd() * 400) },
  };
  return JSON.stringify(rec);
}

/** Writes `completions` lines to `path` unless a file of the expected size is already there. */
export async function generateBenchFile(path: string, completions: number, seed = 20240611): Promise<{ bytes: number; reused: boolean }> {
  const marker = `${path}.done`;
  try {
    const [f, m] = await Promise.all([stat(path), stat(marker)]);
    if (m.isFile()) return { bytes: f.size, reused: true };
  } catch {
    /* not generated yet */
  }
  await mkdir(dirname(path), { recursive: true });
  const rnd = seededRandom(seed);
  const out = createWriteStream(path);
  let pending: string[] = [];
  for (let n = 0; n < completions; n++) {
    pending.push(benchLine(n, rnd));
    if (pending.length === 2000 || n === completions - 1) {
      const ok = out.write(pending.join('\n') + '\n');
      pending = [];
      if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(marker, `${completions}\n`);
  return { bytes: (await stat(path)).size, reused: false };
}
