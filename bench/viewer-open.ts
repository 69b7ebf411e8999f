/**
 * `node --import tsx bench/viewer-open.ts [completions] [native|verl]`: the viewer's model alone on
 * a generated file (default 1M native completions, reused from bench-data/ when there; `verl`
 * rewrites the same completions as verl's rollout dump, one folder of `<step>.jsonl`, read
 * through its adapter and the spill file): first rows, whole file read and scored, bytes held per
 * completion (JS heap + ArrayBuffers after a full GC) and the view's own count, beside the index
 * scan of the native file in the same run, so a loaded machine shows as a ratio. `trl` writes
 * them as TRL's completions_<step>.parquet tables (step, prompt, completion, the two reward
 * functions, advantage), one per step, read through the TRL adapter.
 */
import { createReadStream, existsSync, mkdirSync, openSync, writeSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateBenchFile } from './generate';
import { measureViewerOpen } from './live';
import { RolloutIndex } from '../src/core/index/rolloutIndex';

const count = Number(process.argv[2] ?? 1_000_000);
const format = process.argv[3] === 'verl' || process.argv[3] === 'trl' ? process.argv[3] : 'native';
const dir = join(__dirname, '..', 'bench-data');
mkdirSync(dir, { recursive: true });
const file = join(dir, `viewer-${count}.jsonl`);

/** The bench file as verl's `_dump_generations` writes it: input, output, gts, score, step, per step a file. */
async function verlFolder(src: string): Promise<string> {
  const out = join(dir, `viewer-${count}-verl2`);
  if (existsSync(join(out, 'done'))) return out;
  mkdirSync(out, { recursive: true });
  let fd = -1;
  let step = -1;
  for await (const line of createInterface({ input: createReadStream(src) })) {
    const r = JSON.parse(line) as { step: number; prompt: { text: string }; completion: string; solution: string; reward: number; rewards: Record<string, number> };
    if (r.step !== step) {
      if (fd >= 0) closeSync(fd);
      step = r.step;
      fd = openSync(join(out, `${step}.jsonl`), 'w');
    }
    // gts is the group's ground truth (the bench's right letter), so the 8 rollouts of a prompt form a group.
    writeSync(fd, JSON.stringify({ input: r.prompt.text, output: r.completion, gts: 'A', score: r.reward, step, acc: r.rewards.accuracy }) + '\n');
  }
  if (fd >= 0) closeSync(fd);
  closeSync(openSync(join(out, 'done'), 'w'));
  return out;
}

/** The bench file as TRL's completion tables, one parquet per step (what `GRPOTrainer.log` writes). */
async function trlFolder(src: string): Promise<string> {
  const out = join(dir, `viewer-${count}-trl`);
  if (existsSync(join(out, 'done'))) return out;
  mkdirSync(join(out, 'completions'), { recursive: true });
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  let rows: { step: number; prompt: string; completion: string; acc: number; fmt: number; adv: number }[] = [];
  const flush = (): void => {
    if (!rows.length) return;
    const step = rows[0]!.step;
    const columnData = [
      { name: 'step', data: rows.map((r) => BigInt(r.step)), type: 'INT64' as const },
      { name: 'prompt', data: rows.map((r) => r.prompt), type: 'STRING' as const },
      { name: 'completion', data: rows.map((r) => r.completion), type: 'STRING' as const },
      { name: 'accuracy_reward', data: rows.map((r) => r.acc), type: 'DOUBLE' as const },
      { name: 'format_reward', data: rows.map((r) => r.fmt), type: 'DOUBLE' as const },
      { name: 'advantage', data: rows.map((r) => r.adv), type: 'DOUBLE' as const },
    ];
    writeFileSync(join(out, 'completions', `completions_${String(step).padStart(5, '0')}.parquet`), new Uint8Array(parquetWriteBuffer({ columnData })));
    rows = [];
  };
  for await (const line of createInterface({ input: createReadStream(src) })) {
    const r = JSON.parse(line) as { step: number; prompt: { text: string }; completion: string; rewards: Record<string, number>; advantage: number };
    if (rows.length && rows[0]!.step !== r.step) flush();
    rows.push({ step: r.step, prompt: r.prompt.text, completion: r.completion, acc: r.rewards.accuracy!, fmt: r.rewards.format!, adv: r.advantage });
  }
  flush();
  closeSync(openSync(join(out, 'done'), 'w'));
  return out;
}

async function indexBuildMs(path: string): Promise<number> {
  const t0 = performance.now();
  const index = new RolloutIndex(path);
  await index.update();
  const ms = performance.now() - t0;
  await index.close();
  return ms;
}

async function main(): Promise<void> {
  const gen = await generateBenchFile(file, count);
  const target = format === 'verl' ? await verlFolder(file) : format === 'trl' ? await trlFolder(file) : file;
  // The index build alone before and after the viewer (the baseline is their mean, so neither a
  // cold nor a warm start is favoured); each index is gone before the viewer's memory is measured.
  const before = await indexBuildMs(file);
  const v = await measureViewerOpen(target);
  const indexMs = (before + (await indexBuildMs(file))) / 2;
  console.log(JSON.stringify({ format, mb: Math.round(gen.bytes / 1e6), indexBuildMs: Math.round(indexMs), ...v, listedVsIndex: v.listedMs / indexMs, loadedVsIndex: v.loadedMs / indexMs }));
}

void main();
