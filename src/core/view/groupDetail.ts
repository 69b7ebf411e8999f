/**
 * Builds what the viewer shows for one group: every completion's chain, its boxes mapped into
 * the original image's pixels and matched to the gold boxes, each logged value beside the
 * recomputed one, and the record's facts (`meta`) as text. Images are resolved by the caller
 * (the host turns paths into webview URIs).
 */
import type { BoxFrame, GoldBox, RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import { parseChain } from '../chain/parse';
import type { ParsedBox } from '../chain/types';
import { toImagePixels, detectFrame, resizedSize, boxOutsideImage } from '../boxes/frames';
import { xywhToXyxy } from '../boxes/iou';
import { matchSeed, matchOptimal } from '../boxes/match';
import { loggedMismatches } from '../rewards/group';
import { factViews } from './facts';
import type { RolloutView, ScoreOptions, MemberScore } from './rolloutView';
import type {
  BoxFrameSetting, CompletionView, DrawBox, FrameInfo, GroupDetail, ImageView, ValuePair,
} from './types';

/** Finds an image named in a record (relative to `recordFile`) and says how the webview may load it. */
export type ImageResolver = (path: string, recordFile: string) => Promise<ImageView>;

export interface DetailOptions extends ScoreOptions {
  /** The setting, or the user's choice for this viewer. */
  frame: BoxFrameSetting;
}

type Box4 = [number, number, number, number];

export async function buildGroupDetail(
  view: RolloutView,
  groupIndex: number,
  options: DetailOptions,
  resolveImage: ImageResolver,
): Promise<GroupDetail> {
  const group = view.group(groupIndex);
  const { rows, scores } = await view.membersOf(groupIndex);
  const score = { flags: view.scoreOf(groupIndex).flags, members: scores };
  const loaded = rows.map((r) => ({ record: r.record, file: r.loc.file, line: r.loc.line }));
  const first = loaded[0]!;
  const rec0 = first.record;

  const imagePath = rec0.prompt?.images?.[0];
  const image = imagePath ? await resolveImage(imagePath, first.file) : null;
  const width = rec0.image_size?.[0] ?? image?.width ?? null;
  const height = rec0.image_size?.[1] ?? image?.height ?? null;
  const size = width && height ? { width, height } : null;

  const chains = loaded.map((l) => parseChain(l.record.completion));
  const frame = chooseFrame(chains.flatMap((c) => c.boxes), rec0, size, options);
  const resized = size ? resizedSize(size.width, size.height, options.minPixels, options.maxPixels) : undefined;

  const goldLabeled = goldBoxes(rec0, score.members[0]?.boxes.gold ?? [], size, options);
  const gold: DrawBox[] = goldLabeled.map((g, id) => ({
    id, label: g.label, box: g.box, point: false, iou: null, gold: null, region: 'think',
    outside: size ? boxOutsideImage(g.box, size) : false,
  }));

  const completions: CompletionView[] = [];
  for (let k = 0; k < loaded.length; k++) {
    const { record, file, line } = loaded[k]!;
    const chain = chains[k]!;
    const drawn = chain.boxes.map((b) => mapBox(b, frame.used, size, resized));
    const pairs = drawn.map((d) => ({ label: (d.label ?? '').trim().toLowerCase(), box: d.box }));
    const goldPairs = goldLabeled.map((g) => ({ label: g.label.trim().toLowerCase(), box: g.box }));
    const matches = goldPairs.length
      ? options.matching === 'optimal' ? matchOptimal(pairs, goldPairs, 'continuous') : matchSeed(pairs, goldPairs, 'continuous')
      : [];
    drawn.forEach((d, j) => {
      d.iou = matches[j]?.iou ?? null;
      d.gold = matches[j]?.gold ?? null;
    });
    const images: Record<number, ImageView> = {};
    for (const t of chain.tokens) {
      if (t.kind === 'image' && t.path) images[t.start] = await resolveImage(t.path, file);
    }
    const text = completionText(record);
    completions.push({
      file, line, index: record.index ?? k, text, tokens: chain.tokens, images, boxes: drawn,
      ...valuePairs(record, score.members[k]!),
      ...factViews(record.meta),
      chars: text.length,
      words: text.split(/\s+/).filter(Boolean).length,
      formatOk: chain.formatOk,
      violations: chain.violations,
      verdict: view.verdictOf(rows[k]!),
    });
  }

  return {
    key: group.key,
    step: group.step,
    promptText: rec0.prompt?.text ?? '',
    image,
    gold,
    frame,
    solution: rec0.solution ?? null,
    completions,
    flags: score.flags,
    variant: options.variant,
  };
}

function chooseFrame(
  boxes: ParsedBox[],
  rec: RolloutRecord,
  size: { width: number; height: number } | null,
  options: DetailOptions,
): FrameInfo {
  const declared: BoxFrame | undefined = rec.box_frame ?? (options.frame === 'auto' ? undefined : options.frame);
  const resized = size ? resizedSize(size.width, size.height, options.minPixels, options.maxPixels) : null;
  if (!size) {
    const used = declared ?? 'abs';
    return { used, detected: used, ambiguous: false, resized: null };
  }
  const d = detectFrame(boxes, size, { minPixels: options.minPixels, maxPixels: options.maxPixels, declared: rec.box_frame });
  // A frame chosen for this viewer (or in settings) overrides detection, but not a record's declaration
  // unless the user picked one explicitly in the viewer (options.frame set from the viewer wins).
  const used = options.frame !== 'auto' ? options.frame : (declared ?? d.detected);
  return { used, detected: d.detected, ambiguous: d.ambiguous, resized: resized ? [resized.width, resized.height] : null };
}

function mapBox(
  b: ParsedBox,
  frame: BoxFrame,
  size: { width: number; height: number } | null,
  resized: { width: number; height: number } | undefined,
): DrawBox {
  const box: Box4 = size ? toImagePixels(b.coords, frame, size, resized) : b.coords;
  return {
    id: b.id, label: b.label, box, point: b.point, iou: null, gold: null, region: b.region,
    outside: size ? boxOutsideImage(box, size) : false,
  };
}

/**
 * Gold boxes in image pixels: the ones the bbox reward scored against when it had any (so the IoU
 * shown is the reward's), else `gt_boxes`, else every box in the solution's reasoning.
 */
function goldBoxes(
  rec: RolloutRecord,
  scored: readonly { label: string | null; box: Box4 }[],
  size: { width: number; height: number } | null,
  options: DetailOptions,
): { label: string; box: Box4 }[] {
  if (scored.length) return scored.map((g) => ({ label: g.label ?? '', box: g.box }));
  if (rec.gt_boxes?.length) {
    return rec.gt_boxes.map((g: GoldBox) => ({ label: g.label, box: g.format === 'xywh' ? xywhToXyxy(g.box) : g.box }));
  }
  if (!rec.solution) return [];
  const boxes = parseChain(rec.solution).boxes.filter((b) => b.region !== 'answer');
  if (!size) return boxes.map((b) => ({ label: b.label ?? '', box: b.coords }));
  const d = detectFrame(boxes, size, { minPixels: options.minPixels, maxPixels: options.maxPixels });
  const resized = resizedSize(size.width, size.height, options.minPixels, options.maxPixels);
  return boxes.map((b) => ({ label: b.label ?? '', box: toImagePixels(b.coords, d.detected, size, resized) }));
}

function valuePairs(rec: RolloutRecord, s: MemberScore): Pick<CompletionView, 'rewards' | 'reward' | 'advantage'> {
  // The same rule as the group's mismatch flag: a total is compared only when both sum the same functions.
  const off = new Set(loggedMismatches(rec, s));
  const pair = (name: string, logged: number | undefined, mine: number | undefined): ValuePair => ({
    name,
    logged: logged ?? null,
    recomputed: mine ?? null,
    mismatch: off.has(name),
  });
  const names = [...new Set([...Object.keys(s.rewards), ...Object.keys(rec.rewards ?? {})])];
  return {
    // Names come from the file: own properties only (`constructor`, `__proto__` are data here).
    rewards: names.map((n) => pair(
      n,
      rec.rewards && Object.hasOwn(rec.rewards, n) ? rec.rewards[n] : undefined,
      Object.hasOwn(s.rewards, n) ? s.rewards[n as keyof MemberScore['rewards']] : undefined,
    )),
    reward: pair('reward', rec.reward, s.reward),
    advantage: pair('advantage', rec.advantage, s.advantage),
  };
}
