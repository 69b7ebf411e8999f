/**
 * Word-level differences between two completions (Compare Completions marks what one chain says
 * that the other does not). Texts are split into words and the runs of white space between them;
 * the words common to both are a longest common subsequence of the two word lists, and every
 * other word is marked. Joining a side's segments gives its text back exactly.
 *
 * The LCS table is O(n·m): past MAX_CELLS the common prefix and suffix are kept and the middle
 * is marked whole on both sides (said by `approximate`), so a pair of 2 MB chains stays cheap.
 */

export interface DiffSegment {
  text: string;
  /** Only in this side. */
  changed: boolean;
}

export interface ChainDiff {
  left: DiffSegment[];
  right: DiffSegment[];
  /** The texts were too long for an exact LCS: only the common prefix and suffix are unmarked. */
  approximate: boolean;
}

/** n·m cells of the LCS table computed at most (16 M bytes of Int32). */
export const MAX_CELLS = 4_000_000;

/** Words (any run of non-space) and the space after each, as tokens; the leading space alone. */
export function tokens(text: string): string[] {
  return text.match(/\s+|\S+/g) ?? [];
}

export function diffChains(a: string, b: string, maxCells = MAX_CELLS): ChainDiff {
  const ta = tokens(a);
  const tb = tokens(b);
  const wa = words(ta);
  const wb = words(tb);
  let pre = 0;
  while (pre < wa.length && pre < wb.length && ta[wa[pre]!] === tb[wb[pre]!]) pre++;
  let suf = 0;
  while (suf < wa.length - pre && suf < wb.length - pre && ta[wa[wa.length - 1 - suf]!] === tb[wb[wb.length - 1 - suf]!]) suf++;
  const ma = wa.slice(pre, wa.length - suf);
  const mb = wb.slice(pre, wb.length - suf);
  const keepA = new Set<number>([...wa.slice(0, pre), ...wa.slice(wa.length - suf)]);
  const keepB = new Set<number>([...wb.slice(0, pre), ...wb.slice(wb.length - suf)]);
  const approximate = ma.length * mb.length > maxCells;
  if (!approximate) {
    for (const [i, j] of lcs(ma.map((k) => ta[k]!), mb.map((k) => tb[k]!))) {
      keepA.add(ma[i]!);
      keepB.add(mb[j]!);
    }
  }
  return { left: segments(ta, keepA), right: segments(tb, keepB), approximate };
}

/** Indices of the word tokens (not white space). */
function words(ts: string[]): number[] {
  const out: number[] = [];
  ts.forEach((t, i) => {
    if (!/^\s/.test(t)) out.push(i);
  });
  return out;
}

/** Matched index pairs of one longest common subsequence of `a` and `b`. */
export function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const t = new Int32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] = a[i] === b[j] ? t[(i + 1) * w + j + 1]! + 1 : Math.max(t[(i + 1) * w + j]!, t[i * w + j + 1]!);
    }
  }
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([i, j]);
      i++;
      j++;
    } else if (t[(i + 1) * w + j]! >= t[i * w + j + 1]!) i++;
    else j++;
  }
  return out;
}

/** Tokens joined into runs: a word is unchanged when kept; white space takes the state of the word before it. */
function segments(ts: string[], keep: Set<number>): DiffSegment[] {
  const out: DiffSegment[] = [];
  let lastWord = true;
  ts.forEach((t, i) => {
    const space = /^\s/.test(t);
    const changed = space ? !lastWord && i < ts.length - 1 && !keep.has(i + 1) : !keep.has(i);
    if (!space) lastWord = !changed;
    const prev = out[out.length - 1];
    if (prev && prev.changed === changed) prev.text += t;
    else out.push({ text: t, changed });
  });
  return out;
}
