/**
 * Checkpoint folders in a run's output_dir: HF `checkpoint-N`, verl `global_step_N`. The newest is
 * the highest N by number (checkpoint-1000 is newer than checkpoint-999, which sorts after it as text).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^(?:checkpoint-|global_step_)(\d+)$/;

export interface Checkpoint {
  path: string;
  step: number;
}

export function listCheckpoints(outputDir: string): Checkpoint[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && NAME.test(d.name))
    .map((d) => ({ path: join(outputDir, d.name), step: Number(NAME.exec(d.name)![1]) }))
    .sort((a, b) => a.step - b.step);
}

export function newestCheckpoint(outputDir: string): Checkpoint | undefined {
  return listCheckpoints(outputDir).at(-1);
}
