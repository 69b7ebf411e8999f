/**
 * Prompt identity: which groups of a view ask the same prompt (text and images, as the group
 * keys compare them in src/core/rollouts/groups.ts). The index keeps a 32-bit hash of each
 * group's prompt (GroupTable `prompt`, 0 while unknown); a lookup takes the groups whose hash
 * matches, or is not known yet (a scanned file's rows before scoring), and confirms each by
 * reading one record back, so a hash collision never joins two prompts. What a lookup reads
 * back fills in the hashes it lacked.
 */
import { forEachRecord } from '../index/bodyScan';
import { promptHash, promptSignature } from '../index/groupTable';
import type { RolloutRecord } from '../schema/record';
import type { RolloutView } from './rolloutView';

export interface Prompt {
  text: string;
  images: string[];
}

/** A record's prompt, missing parts empty. */
export function promptOf(rec: RolloutRecord): Prompt {
  return { text: rec.prompt?.text ?? '', images: rec.prompt?.images ? [...rec.prompt.images] : [] };
}

/** The first live row of group `g`, or -1 when it has none. */
function firstRow(view: RolloutView, g: number): number {
  const index = view.index;
  const gt = index.groups;
  if (gt.size.data[g]! <= 0) return -1;
  if (gt.contiguous(g) && index.group.data[gt.first.data[g]!] === g) return gt.first.data[g]!;
  const rows = index.groupRows(g);
  return rows.length ? rows[0]! : -1;
}

/** Group `g`'s prompt, read from its first member's record (null when the group has no member). */
export async function groupPrompt(view: RolloutView, g: number): Promise<Prompt | null> {
  const r = firstRow(view, g);
  if (r < 0) return null;
  const row = await view.index.readRecord(r);
  view.index.groups.notePrompt(g, r, row.record.prompt);
  return promptOf(row.record);
}

/** Every group of the view whose prompt equals group `group`'s, in step order (itself included). */
export async function samePromptGroups(view: RolloutView, group: number): Promise<number[]> {
  const prompt = await groupPrompt(view, group);
  return prompt ? groupsWithPrompt(view, prompt) : [];
}

/**
 * Every group of the view asking `prompt` (from this run or another), in step order (unknown
 * steps last), file order within a step.
 */
export async function groupsWithPrompt(view: RolloutView, prompt: Prompt): Promise<number[]> {
  const index = view.index;
  const gt = index.groups;
  const want = promptHash(prompt);
  const signature = promptSignature(prompt);
  const rows: number[] = [];
  const n = gt.count;
  const hashes = gt.prompt.data;
  for (let g = 0; g < n; g++) {
    const h = hashes[g]!;
    if (h !== 0 && h !== want) continue;
    const r = firstRow(view, g);
    if (r >= 0) rows.push(r);
  }
  const out: number[] = [];
  if (rows.length) {
    await forEachRecord(index, index.count, (row, located) => {
      const g = index.group.data[row]!;
      if (g < 0) return;
      gt.notePrompt(g, row, located.record.prompt);
      if (promptSignature(located.record.prompt) === signature) out.push(g);
    }, { only: rows });
  }
  const step = gt.step.data;
  const order = (g: number): number => (step[g]! < 0 ? Infinity : step[g]!);
  return out.sort((a, b) => order(a) - order(b) || a - b);
}
