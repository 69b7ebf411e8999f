/**
 * The alignment table (docs/judge.md, "The alignment table"): per run, per step and per checkpoint, accuracy (the seeds'
 * accuracy reward), alignment % (100 − misaligned %), misalignment types, and agreement between
 * tiers, read from a run's records and its verdict cache. Verdicts carry no line numbers: each
 * record finds its own by recomputing the content key for every (tier, model, prompt) the cache
 * holds, so the same function serves a cache written by the CLI, the editor or an older prompt.
 */
import { basename, dirname } from 'node:path';
import { isDirectory, stepFromName } from '../ingest/files';
import { openSource, type OpenOptions } from '../ingest/source';
import { accuracyReward, scaleUpAccuracyReward } from '../rewards/seed';
import { completionText, type RolloutRecord } from '../schema/record';
import { VerdictCache, cachePathFor } from './cache';
import { JUDGE_TIERS, MISALIGNMENT_TYPES, verdictKey, type JudgeItem, type JudgeTier, type JudgeVerdict, type MisalignmentType } from './verdict';

/** One completion as the table reads it. */
export interface AlignmentItem extends JudgeItem {
  run: string;
  step: number | null;
  checkpoint: string | null;
  /** 1 / 0 by the seeds' accuracy reward; null when the record has no solution to compare with. */
  accuracy: number | null;
  /** The completion has a <think> block. */
  reasoning: boolean;
}

/** The seeds' accuracy: `possible_answers` (scale-up) first, else `solution`, else the logged `rewards.accuracy`. */
export function accuracyOf(rec: RolloutRecord, completion: string): number | null {
  if (rec.possible_answers && rec.possible_answers.length > 0) return scaleUpAccuracyReward(completion, rec.possible_answers);
  if (typeof rec.solution === 'string') return accuracyReward(completion, rec.solution);
  const logged = rec.rewards?.accuracy;
  return typeof logged === 'number' && Number.isFinite(logged) ? (logged > 0 ? 1 : 0) : null;
}

const CHECKPOINT_IN_NAME = /checkpoint[-_]?(\d+)/i;

/**
 * A checkpoint label: a `checkpoint` field on the record (top level or in `meta`), else
 * `checkpoint-N` in the file's name (evaluation files such as `eval-checkpoint-500.jsonl`).
 */
export function checkpointOf(rec: RolloutRecord, file: string): string | null {
  for (const v of [rec.extra?.checkpoint, rec.meta?.checkpoint]) {
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return `checkpoint-${v}`;
  }
  const m = CHECKPOINT_IN_NAME.exec(basename(file));
  return m ? `checkpoint-${m[1]}` : null;
}

export function alignmentItem(rec: RolloutRecord, file: string, extra: { line?: number; group?: string } = {}): AlignmentItem {
  const completion = completionText(rec);
  return {
    completion,
    question: rec.prompt?.text ?? '',
    ...extra,
    run: rec.run ?? basename(file).replace(/(\.rollouts)?\.jsonl$/, ''),
    step: rec.step ?? null,
    checkpoint: checkpointOf(rec, file),
    accuracy: accuracyOf(rec, completion),
    reasoning: /<think>[\s\S]*?<\/think>/.test(completion),
  };
}

/** What the cache says about one completion. */
export interface ItemVerdicts {
  /** The first decisive verdict in cascade order (rules, local, llm), else the last undecided one. */
  final: JudgeVerdict | null;
  /** One verdict per tier (the newest when a tier ran with several models or prompts), cascade order. */
  trail: JudgeVerdict[];
}

/**
 * Finds a completion's verdicts among a cache's, by content key, at the completion's step: the
 * same text at a step nobody judged is not judged there (a verdict line without a step, from an
 * older cache, counts at every step).
 */
export class VerdictLookup {
  private readonly byKey = new Map<string, JudgeVerdict>();
  /** Per key, the steps it was judged at; null: every step. */
  private readonly stepsOf = new Map<string, Set<number | null> | null>();
  private readonly judges: { tier: JudgeTier; model: string; promptHash: string }[] = [];

  constructor(verdicts: Iterable<JudgeVerdict>) {
    const seen = new Set<string>();
    for (const v of verdicts) {
      const prev = this.byKey.get(v.key);
      if (!prev || prev.at < v.at) this.byKey.set(v.key, v);
      const steps = this.stepsOf.get(v.key);
      if (v.step === undefined) this.stepsOf.set(v.key, null);
      else if (steps === undefined) this.stepsOf.set(v.key, new Set([v.step]));
      else steps?.add(v.step);
      const id = `${v.tier}\u0000${v.model}\u0000${v.promptHash}`;
      if (!seen.has(id)) {
        seen.add(id);
        this.judges.push({ tier: v.tier, model: v.model, promptHash: v.promptHash });
      }
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  /** `item.step` undefined: any step (a caller that does not know where the completion sits). */
  of(item: Pick<JudgeItem, 'completion' | 'question' | 'step'>): ItemVerdicts {
    const perTier = new Map<JudgeTier, JudgeVerdict>();
    for (const j of this.judges) {
      const key = verdictKey(item, j.tier, j.model, j.promptHash);
      const v = this.byKey.get(key);
      if (!v) continue;
      const steps = this.stepsOf.get(key);
      if (item.step !== undefined && steps && !steps.has(item.step)) continue;
      const prev = perTier.get(j.tier);
      if (!prev || prev.at < v.at) perTier.set(j.tier, v);
    }
    const trail = JUDGE_TIERS.flatMap((t) => perTier.get(t) ?? []);
    const final = trail.find((v) => v.aligns !== null) ?? trail[trail.length - 1] ?? null;
    return { final, trail };
  }
}

export interface TierAgreement {
  a: JudgeTier;
  b: JudgeTier;
  /** Completions both tiers decided (aligns true/false). */
  both: number;
  agree: number;
}

export interface AlignmentRow {
  /** The run, `step N` or the checkpoint. */
  label: string;
  scope: 'run' | 'step' | 'checkpoint';
  run: string;
  step: number | null;
  checkpoint: string | null;
  completions: number;
  /** Share of completions with a <think> block, 0–1. */
  reasoningShare: number;
  /** Completions with an accuracy (a solution or possible answers). */
  scored: number;
  /** %, null when none scored. */
  accuracy: number | null;
  judged: number;
  aligned: number;
  misaligned: number;
  unparseable: number;
  /** 100 − misaligned % of the judged completions; null when none judged. */
  alignment: number | null;
  types: Record<MisalignmentType, number>;
  agreement: TierAgreement[];
}

function emptyRow(label: string, scope: AlignmentRow['scope'], first: AlignmentItem): AlignmentRow {
  return {
    label,
    scope,
    run: first.run,
    step: scope === 'step' ? first.step : null,
    checkpoint: scope === 'checkpoint' ? first.checkpoint : null,
    completions: 0,
    reasoningShare: 0,
    scored: 0,
    accuracy: null,
    judged: 0,
    aligned: 0,
    misaligned: 0,
    unparseable: 0,
    alignment: null,
    types: Object.fromEntries(MISALIGNMENT_TYPES.map((t) => [t, 0])) as Record<MisalignmentType, number>,
    agreement: [],
  };
}

interface Acc {
  row: AlignmentRow;
  correct: number;
  withThink: number;
  pairs: Map<string, TierAgreement>;
}

/**
 * Rows per run, then per checkpoint (when any completion has one), then per step, each list in
 * first-seen order (steps ascending).
 */
export function alignmentRows(items: readonly AlignmentItem[], lookup: VerdictLookup): AlignmentRow[] {
  const groups = new Map<string, Acc>();
  const add = (id: string, label: string, scope: AlignmentRow['scope'], item: AlignmentItem, v: ItemVerdicts): void => {
    let acc = groups.get(id);
    if (!acc) groups.set(id, (acc = { row: emptyRow(label, scope, item), correct: 0, withThink: 0, pairs: new Map() }));
    const r = acc.row;
    r.completions++;
    if (item.reasoning) acc.withThink++;
    if (item.accuracy !== null) {
      r.scored++;
      acc.correct += item.accuracy;
    }
    if (v.final) {
      r.judged++;
      if (v.final.aligns === true) r.aligned++;
      else if (v.final.aligns === false) {
        r.misaligned++;
        r.types[v.final.type ?? 'other']++;
      } else r.unparseable++;
    }
    const decided = v.trail.filter((t) => t.aligns !== null);
    for (let i = 0; i < decided.length; i++) {
      for (let j = i + 1; j < decided.length; j++) {
        const a = decided[i]!;
        const b = decided[j]!;
        const pid = `${a.tier}>${b.tier}`;
        let p = acc.pairs.get(pid);
        if (!p) acc.pairs.set(pid, (p = { a: a.tier, b: b.tier, both: 0, agree: 0 }));
        p.both++;
        if (a.aligns === b.aligns) p.agree++;
      }
    }
  };
  for (const item of items) {
    const v = lookup.of(item);
    add(`r:${item.run}`, item.run, 'run', item, v);
    if (item.checkpoint !== null) add(`c:${item.run}\u0000${item.checkpoint}`, item.checkpoint, 'checkpoint', item, v);
    if (item.step !== null) add(`s:${item.run}\u0000${item.step}`, `step ${item.step}`, 'step', item, v);
  }
  const order = { run: 0, checkpoint: 1, step: 2 } as const;
  const rows = [...groups.values()].map(({ row, correct, withThink, pairs }) => {
    row.reasoningShare = row.completions ? withThink / row.completions : 0;
    row.accuracy = row.scored ? (100 * correct) / row.scored : null;
    row.alignment = row.judged ? 100 - (100 * row.misaligned) / row.judged : null;
    row.agreement = [...pairs.values()];
    return row;
  });
  return rows.sort((x, y) => order[x.scope] - order[y.scope] || (x.step ?? 0) - (y.step ?? 0));
}

const pct = (n: number | null): string => (n === null ? '–' : `${n.toFixed(2)}%`);
/** Markdown cell text: pipes and newlines in a run name would break the table. */
const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/**
 * The seed's table shape: model | reasoning | accuracy | alignment, one row per run or
 * checkpoint (the rows a model comparison reads); `scope: 'step'` gives one row per step instead.
 */
export function alignmentMarkdown(rows: readonly AlignmentRow[], opts: { scope?: 'models' | 'step' } = {}): string {
  const pick = opts.scope === 'step' ? rows.filter((r) => r.scope === 'step') : rows.filter((r) => r.scope !== 'step');
  const lines = [
    `| ${opts.scope === 'step' ? 'step' : 'model'} | reasoning | accuracy | alignment | judged | misaligned (contradiction / missing detail / irrelevant / other) |`,
    '| --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of pick) {
    const name = r.scope === 'run' ? r.run : r.scope === 'checkpoint' ? `${r.run} ${r.checkpoint}` : r.label;
    const reasoning = r.reasoningShare >= 0.5 ? 'yes' : r.reasoningShare > 0 ? `${Math.round(100 * r.reasoningShare)}%` : 'no';
    const types = MISALIGNMENT_TYPES.map((t) => r.types[t]).join(' / ');
    lines.push(`| ${cell(name)} | ${reasoning} | ${pct(r.accuracy)} | ${pct(r.alignment)} | ${r.judged} | ${r.misaligned} (${types}) |`);
  }
  return lines.join('\n') + '\n';
}

export interface FilesAlignment {
  rows: AlignmentRow[];
  completions: number;
  /** Verdicts found in the caches (`<file>.verdicts.jsonl`) beside the files. */
  verdicts: number;
  /** `file:line: error` for lines that are not records or not verdicts, and the sources' notes. */
  problems: string[];
  /** The files the completions came from: the caches beside them are the ones read. */
  recordFiles: string[];
}

/**
 * The run a source of another trainer's format stands for when its records name none: the
 * folder (a verl dump, a TRL run, an EasyR1 checkpoint), else the file without its extension.
 * A native file is a run of its own, as before (one file per model or checkpoint).
 */
function runNameOf(path: string, folder: boolean): string {
  if (folder) return basename(path) === 'completions' ? basename(dirname(path)) : basename(path);
  if (stepFromName(path) !== undefined || basename(path) === 'generations.log') return basename(dirname(path));
  return basename(path).replace(/\.(jsonl|parquet|log|txt)$/, '');
}

/**
 * Reads rollout sources (files or folders, any format the viewer reads) and the verdict cache
 * beside each of their files (never writing one) into the table.
 */
export async function alignmentOfFiles(paths: readonly string[], opts: OpenOptions = {}): Promise<FilesAlignment> {
  const items: AlignmentItem[] = [];
  const verdicts: JudgeVerdict[] = [];
  const problems: string[] = [];
  const recordFiles = new Set<string>();
  for (const path of paths) {
    const source = await openSource(path, { fallback: 'native', ...opts });
    const run = source.format === 'native' ? null : runNameOf(path, await isDirectory(path));
    const read = await source.read((rec, loc) => {
      recordFiles.add(loc.file);
      const item = alignmentItem(rec, loc.file, { line: loc.line });
      if (run !== null && rec.run === undefined) item.run = run;
      if (item.checkpoint === null) item.checkpoint = checkpointOf(rec, path);
      items.push(item);
    });
    for (const b of read.badLines) problems.push(`${b.file ?? path}:${b.line}: ${b.error}`);
    for (const n of read.notes) problems.push(`${n.file}${n.line === undefined ? '' : `:${n.line}`}: note: ${n.message}`);
    for (const f of source.files) if (f.role === 'records') recordFiles.add(f.path);
  }
  for (const file of recordFiles) {
    const cache = VerdictCache.open(cachePathFor(file));
    for (const line of cache.skippedLines) problems.push(`${cache.path}:${line}: not a verdict`);
    verdicts.push(...cache.verdicts());
  }
  const lookup = new VerdictLookup(verdicts);
  return { rows: alignmentRows(items, lookup), completions: items.length, verdicts: lookup.size, problems, recordFiles: [...recordFiles] };
}
