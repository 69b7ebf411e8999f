/**
 * VLM-R1 / R1-V debug log (`DEBUG_MODE=true`, `LOG_PATH=…`): every rank appends one block per
 * completion to one file, with no step and no group. A block opens with
 *   `------------- 14-03-27-00-040000 Accuracy reward: 1.0 -------------`
 * (`%d-%H-%M-%S-%f`), then the fields its reward function writes (vlmr1Fields.ts FORMS), or the
 * seed spelling. Blocks whose raw writes other ranks' writes landed between are put back
 * together (vlmr1Untangle.ts) or flagged; steps and groups are inferred (vlmr1Steps.ts); format
 * verdicts come from `<log>_format.txt` or from `Format reward` blocks (vlmr1Verdicts.ts).
 * (docs/formats.md, "VLM-R1 debug log")
 */
import { blockParser, type Block, type BlockSyntax } from './blocks';
import type { AdapterOptions, RecordSink, TextParser } from './types';
import { FORMS, fieldStart, formStartingWith, parseHeader, type Key, type VlmHeader } from './vlmr1Fields';
import { blockRecord, type BlockFields, type SplitWrite } from './vlmr1Record';
import { StepAssembler } from './vlmr1Steps';
import { solve, type Head, type Seg, type Solved } from './vlmr1Untangle';
import { exactValue, FormatVerdicts, VerdictPairs } from './vlmr1Verdicts';

export { listOf, parseHeader, type VlmHeader } from './vlmr1Fields';
export { FormatVerdicts } from './vlmr1Verdicts';

/** A block opened by a header, or (header null) by a field line outside any block. */
interface Opened {
  header: VlmHeader | null;
}

const MAX_WINDOW = 16;
const MAX_SPLIT_NOTES = 20;
const LENIENT = new Set<Key>(['image_path', 'problem', 'content', 'solution', 'possible_answers', 'golden', 'predicted']);

function syntax(): BlockSyntax<Opened> {
  return {
    opens: (text) => {
      const header = parseHeader(text);
      return header ? { header: { header } } : null;
    },
    field: (text) => fieldStart(text),
    headless: () => ({ header: null }),
  };
}

const bytesOf = (lines: readonly string[]): number => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

/** The `_format.txt` sibling: fills `verdicts`, emits no records. */
export function vlmr1FormatParser(sink: RecordSink, verdicts: FormatVerdicts): TextParser {
  const pairs = new VerdictPairs(verdicts, sink);
  let file = '';
  const inner = blockParser<Opened>(syntax(), sink, (b) => {
    file = b.start.file;
    if (b.header.header) pairs.block({ ...b, header: b.header.header });
    else for (const f of b.fields) sink.bad({ file, line: f.start.line, error: 'text outside any block' });
  });
  return {
    get holding() {
      return inner.holding;
    },
    line: (t, l) => inner.line(t, l),
    flush: () => inner.flush(),
    end: () => {
      inner.end();
      if (file) pairs.end(file);
    },
  };
}

/** The seed spelling (and any block not starting with an upstream field): its fields as read, others folded into them. */
function lenient(b: Block<Opened>, header: VlmHeader): BlockFields {
  const fields = new Map<Key, string>();
  let last: Key | null = null;
  const parts = new Map<Key, string[]>();
  for (const f of b.fields) {
    const key = f.key as Key;
    if (LENIENT.has(key) && !parts.has(key)) {
      parts.set(key, [f.value]);
      last = key;
    } else if (last) parts.get(last)!.push(...f.lines);
  }
  for (const [k, v] of parts) fields.set(k, v.join('\n').replace(/(\n\s*)+$/, ''));
  return { header, loc: { file: b.start.file, line: b.start.line, offset: b.start.offset, endLine: b.endLine }, fields, form: 'seed' };
}

export function vlmr1Parser(sink: RecordSink, verdicts: FormatVerdicts, opts: AdapterOptions = {}): TextParser {
  const steps = new StepAssembler(sink, verdicts, (opts.stepGapMs ?? 2000) * 1000);
  const pairs = new VerdictPairs(verdicts, sink);
  let file = '';
  let pos = 0;
  let heads: Head[] = [];
  let segs: Seg[] = [];
  /** In file order: a head of the window, or a block already read (lenient) waiting behind them. */
  let items: (number | BlockFields)[] = [];
  let ghosts: Head[] = [];
  let splitNotes = 0;

  const hand = (b: BlockFields): void => {
    const r = blockRecord(b);
    if ('bad' in r) sink.bad({ file: b.loc.file, line: b.loc.line, error: r.bad });
    else steps.add(r);
  };

  const segsOf = (b: Block<Opened>, phys: number): Seg[] =>
    b.fields.map((f) => {
      const fs = fieldStart(f.lines[0]!)!;
      let end = f.lines.length - 1;
      while (end > 0 && f.lines[end]!.trim() === '') end--;
      return { key: fs.key, upstream: fs.upstream, lines: f.lines, bytes: bytesOf(f.lines), start: f.start, endLine: f.start.line + end, pos: pos++, phys };
    });

  const at = (lines: number[]): string => (lines.length === 1 ? `the block at line ${lines[0]}` : `the blocks at lines ${lines.join(', ')}`);
  const note = (line: number, message: string): void => {
    if (splitNotes++ < MAX_SPLIT_NOTES) sink.note?.({ file, line, message });
  };

  /** Hands over what the window resolved to; `forced`: the writer went quiet or the file ended. */
  const emit = (r: Solved, all: Head[], forced: boolean): void => {
    const g0 = all.length - heads.length;
    const flagged: Record<SplitWrite, number[]> = { rejoined: [], ambiguous: [], incomplete: [] };
    const done: (BlockFields | null)[] = heads.map((h, j) => {
      const i = j + g0;
      let split: SplitWrite | undefined;
      if (r.missing[i]! > 0) split = 'incomplete';
      else if (r.ambiguous.has(i) || (r.unexplained && r.separated.has(i))) split = 'ambiguous';
      else if (r.separated.has(i)) split = 'rejoined';
      if (split) flagged[split].push(h.start.line);
      const fields = new Map<Key, string>();
      for (const g of r.groups[i]!) if (!fields.has(g[0]!.key)) fields.set(g[0]!.key, exactValue(g.flatMap((s) => s.lines)));
      const endLine = Math.max(h.start.line, ...r.groups[i]!.flat().map((s) => s.endLine));
      return { header: h.header, loc: { file, line: h.start.line, offset: h.start.offset, endLine }, fields, form: r.form[i] ?? 'content', split };
    });
    for (const it of items) hand(typeof it === 'number' ? done[it]! : it);
    all.slice(0, g0).forEach((g, i) => {
      const had = new Set(g.groups.flat().map((s) => s.pos));
      const late = r.groups[i]!.flat().find((s) => !had.has(s.pos));
      if (late)
        note(late.start.line, `the rest of the block at line ${g.start.line} arrived after that block was handed over (the log was quiet in between): left out; that record stays meta.split_write = "incomplete"`);
    });
    for (const s of r.unplaced)
      s.lines.forEach((l, k) => {
        if (l.trim() !== '') sink.bad({ file, line: s.start.line + k, error: s.phys < 0 ? 'text outside any block' : 'a field line no block here expects' });
      });
    if (flagged.rejoined.length)
      note(flagged.rejoined[0]!, `${at(flagged.rejoined)} reached the file in several writes with other ranks' writes between them; put back together (only one assignment keeps every block's writes whole): meta.split_write = "rejoined"`);
    if (flagged.ambiguous.length)
      note(flagged.ambiguous[0]!, `${at(flagged.ambiguous)} reached the file in several writes that interleave; which Content: / Solution: is whose cannot be told: each part went to the block waiting longest, meta.split_write = "ambiguous"`);
    if (flagged.incomplete.length)
      note(flagged.incomplete[0]!, `${at(flagged.incomplete)}: fields its other writes should hold never reached the file: meta.split_write = "incomplete"`);
    ghosts = forced ? heads.map((h, j) => ({ ...h, ghost: true, form: r.form[j + g0], groups: r.groups[j + g0]! })).filter((_, j) => r.missing[j + g0]! > 0) : [];
    heads = [];
    segs = [];
    items = [];
  };

  const resolve = (forced: boolean): void => {
    if (!heads.length && !segs.length) {
      for (const it of items) hand(it as BlockFields);
      items = [];
      return;
    }
    const all = [...ghosts, ...heads];
    const shifted = segs.map((s) => (s.phys < 0 ? s : { ...s, phys: s.phys + ghosts.length }));
    const r = solve(all, shifted);
    const waiting = r.missing.slice(ghosts.length).some((m) => m > 0);
    if (waiting && !forced && heads.length <= MAX_WINDOW) return;
    emit(r, all, forced || waiting);
  };

  /** A block's fields are exactly one upstream form, in order: nothing to untangle. */
  const clean = (b: Block<Opened>, header: VlmHeader, s: Seg[]): boolean => {
    const form = s[0] && s[0].upstream ? formStartingWith(s[0].key, header) : null;
    return !!form && s.length === FORMS[form].length && s.every((x, i) => x.upstream && x.key === FORMS[form][i]);
  };

  const onBlock = (b: Block<Opened>): void => {
    file = b.start.file;
    const header = b.header.header;
    if (!header) {
      // Lines after the writer went quiet with no header before them: the rest of a block
      // still waiting in the window, or of one already handed over, or text outside any block.
      segs.push(...segsOf(b, -1));
      resolve(false);
      return;
    }
    if (header.name === 'format') {
      pairs.block({ ...b, header });
      return;
    }
    const first = b.fields[0] ? fieldStart(b.fields[0].lines[0]!) : null;
    if (first && !first.upstream) {
      const lb = lenient(b, header);
      if (heads.length || items.length) items.push(lb);
      else hand(lb);
      return;
    }
    const head: Head = { header, start: b.start, pos: pos++, ghost: false, groups: [] };
    const own = segsOf(b, heads.length);
    if (!heads.length && !items.length && clean(b, header, own)) {
      ghosts = [];
      const form = formStartingWith(own[0]!.key, header)!;
      const fields = new Map<Key, string>(own.map((s) => [s.key, exactValue(s.lines)]));
      hand({ header, loc: { file, line: b.start.line, offset: b.start.offset, endLine: b.endLine }, fields, form });
      return;
    }
    items.push(heads.length);
    heads.push(head);
    segs.push(...own);
    resolve(false);
  };

  const inner = blockParser<Opened>(syntax(), sink, onBlock);
  return {
    get holding() {
      return inner.holding || heads.length > 0 || items.length > 0 || steps.holding;
    },
    line: (t, l) => inner.line(t, l),
    flush() {
      // The writer went quiet: hand over what is complete. A block still missing the writes
      // of its other parts stays in the window (they follow its first write within
      // microseconds upstream); only the end of the file, or a window grown past MAX_WINDOW
      // blocks, hands it over incomplete.
      inner.flush();
      steps.flush();
    },
    end() {
      inner.end();
      resolve(true);
      if (file) {
        steps.end(file);
        pairs.end(file);
        if (splitNotes > MAX_SPLIT_NOTES) sink.note?.({ file, message: `${splitNotes - MAX_SPLIT_NOTES} more notes about blocks written in several parts` });
      }
    },
  };
}

/**
 * `debug_log.txt` → `debug_log_format.txt`, as VLM-R1 names it (`LOG_PATH.replace(".txt", "_format.txt")`);
 * glm_module.py's `debug_log_iou.txt` (`LOG_PATH.replace(".txt", "_iou.txt")`) has the same sibling.
 */
export function formatSiblingOf(logPath: string): string | null {
  if (/_format\.txt$/.test(logPath) || !logPath.includes('.txt')) return null;
  if (/_iou\.txt$/.test(logPath)) return logPath.replace(/_iou\.txt$/, '_format.txt');
  return logPath.replace('.txt', '_format.txt');
}
