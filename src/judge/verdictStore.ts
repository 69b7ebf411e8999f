/**
 * What the viewers show of the judge: per rollout file, its verdict cache read once into a
 * VerdictLookup (the alignment table's) (read again after a judge run on that file), plus the failures of this session's
 * runs (failures are never cached). No vscode import: plain state the host passes around.
 */
import { VerdictCache, cachePathFor } from '../core/judge/cache';
import { judgeItemOf } from '../core/judge/session';
import { VerdictLookup } from '../core/judge/alignment';
import type { LoadedRecord, RecordVerdicts } from '../core/view/rolloutView';
import type { VerdictView } from '../protocol/viewer';
import { log } from '../log';

interface FileVerdicts {
  index: VerdictLookup;
  /** By line: why the last try could not judge it. */
  failures: Map<number, { reason: string; tier: string }>;
}

export class VerdictStore {
  private readonly files = new Map<string, FileVerdicts>();

  private of(file: string): FileVerdicts {
    let f = this.files.get(file);
    if (!f) {
      const cache = VerdictCache.open(cachePathFor(file));
      if (cache.skippedLines.length) log().warn(`verdict cache ${cache.path}: skipped ${cache.skippedLines.length} unreadable line(s) (first: line ${cache.skippedLines[0]})`);
      f = { index: new VerdictLookup(cache.verdicts()), failures: new Map() };
      this.files.set(file, f);
    }
    return f;
  }

  /** After a run on `file`: read its cache again next time, and keep this run's failures. */
  judged(file: string, failures: ReadonlyMap<number, { reason: string; tier: string }>, judgedLines: Iterable<number>): void {
    const old = this.files.get(file)?.failures ?? new Map<number, { reason: string; tier: string }>();
    for (const line of judgedLines) old.delete(line);
    for (const [line, f] of failures) old.set(line, f);
    this.files.delete(file);
    this.of(file).failures.clear();
    for (const [line, f] of old) this.of(file).failures.set(line, f);
  }

  verdictOf(l: LoadedRecord): VerdictView | null {
    const f = this.of(l.file);
    const failure = f.failures.get(l.line);
    if (f.index.size === 0 && !failure) return null;
    const v = f.index.size === 0 ? null : f.index.of(judgeItemOf(l.record)).final;
    if (v) return { aligns: v.aligns, type: v.type, why: v.why, tier: v.tier };
    if (failure) return { aligns: null, type: null, why: '', tier: failure.tier, failed: failure.reason };
    return null;
  }

  readonly lookup: RecordVerdicts = (l) => this.verdictOf(l);
}
