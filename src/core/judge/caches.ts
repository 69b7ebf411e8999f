/**
 * The verdict caches of one judge run over a source of several files (a verl folder of step
 * files, a TRL run's parquet files): each record file keeps its own `<file>.verdicts.jsonl`,
 * which is where the viewer and the Alignment dashboard look for a record's verdict, yet the run
 * is one cascade (one LLM pool, one Batch API batch) rather than one per file. A verdict carries
 * only its content key, so the files are routed by key: every key the run's judges can produce
 * for a completion is computed up front and points at the files holding that completion.
 */
import { VerdictCache, cachePathFor } from './cache';
import type { CascadeJudges } from './cascade';
import { verdictKey, type JudgeItem, type JudgeTier, type JudgeVerdict } from './verdict';

/** What the cascade and the estimate need of a cache. */
export interface VerdictCacheLike {
  get(key: string): JudgeVerdict | undefined;
  put(v: JudgeVerdict): void;
}

export class VerdictCaches implements VerdictCacheLike {
  private readonly byFile = new Map<string, VerdictCache>();
  /** Verdict key → the caches of the files holding that completion. */
  private readonly routes = new Map<string, VerdictCache[]>();

  /** Set when the routed items all come from one file: no keys need computing. */
  private only: VerdictCache | null = null;

  private constructor(private readonly shared: VerdictCache | null) {
    if (shared) this.byFile.set(shared.path, shared);
  }

  /** One named cache for every file (the CLI's `--cache FILE`). */
  static shared(path: string): VerdictCaches {
    return new VerdictCaches(VerdictCache.open(path));
  }

  /** `<file>.verdicts.jsonl` beside each record file, opened as items name them. */
  static perFile(): VerdictCaches {
    return new VerdictCaches(null);
  }

  /** The open caches, in the order their files were first routed. */
  get caches(): VerdictCache[] {
    return [...this.byFile.values()];
  }

  private cacheOf(file: string): VerdictCache {
    if (this.shared) return this.shared;
    let c = this.byFile.get(file);
    if (!c) this.byFile.set(file, (c = VerdictCache.open(cachePathFor(file))));
    return c;
  }

  /**
   * Opens each item's file cache and remembers, for every judge of the run, which caches the
   * item's verdict belongs in. Call with every item of the run once the judges are open (their
   * model and prompt hash are part of the key).
   */
  route(entries: readonly { item: Pick<JudgeItem, 'completion' | 'question'>; file: string }[], judges: CascadeJudges): void {
    if (this.shared) return;
    for (const { file } of entries) this.cacheOf(file);
    const files = new Set(entries.map((e) => e.file));
    // One file (a native run, a single log): its cache takes every verdict, no keys computed.
    this.only = files.size === 1 ? this.cacheOf([...files][0]!) : null;
    if (this.only) return;
    const who: { tier: JudgeTier; model: string; promptHash: string }[] = [];
    if (judges.rules) who.push({ tier: 'rules', model: judges.rules.model, promptHash: judges.rules.promptHash });
    for (const j of [judges.local, judges.llm]) if (j) who.push({ tier: j.tier, model: j.model, promptHash: j.promptHash });
    for (const { item, file } of entries) {
      const cache = this.cacheOf(file);
      for (const j of who) {
        const key = verdictKey(item, j.tier, j.model, j.promptHash);
        const list = this.routes.get(key);
        if (!list) this.routes.set(key, [cache]);
        else if (!list.includes(cache)) list.push(cache);
      }
    }
  }

  /** Looks without writing (the estimate before a run). */
  peek(key: string): JudgeVerdict | undefined {
    const one = this.shared ?? this.only;
    if (one) return one.get(key);
    for (const c of this.routes.get(key) ?? []) {
      const v = c.get(key);
      if (v) return v;
    }
    return undefined;
  }

  /** A hit in one file's cache is copied to the other files holding the completion, so each shows it. */
  get(key: string): JudgeVerdict | undefined {
    const v = this.peek(key);
    if (v && !this.shared && !this.only) for (const c of this.routes.get(key)!) c.put(v);
    return v;
  }

  /** Into every routed file's cache (a completion repeated in two step files shows in both). */
  put(v: JudgeVerdict): void {
    const one = this.shared ?? this.only;
    if (one) return one.put(v);
    const list = this.routes.get(v.key);
    // An unrouted key comes from a judge `route` was not told about: keep it rather than lose it.
    for (const c of list ?? this.caches.slice(0, 1)) c.put(v);
  }

  close(): void {
    for (const c of this.byFile.values()) c.close();
  }
}
