/**
 * The seeds' evaluation metrics on prediction items (docs/eval.md "Metrics"): exam score, letter
 * micro precision / recall / F1, exact match, VQA accuracy, POPE and pass@k. Each question gets a
 * row (its score, and counts for the F1-like statistics); an item a metric cannot score is a bad
 * line named by file and line, and the others are still scored.
 */
import { pyStrip } from '../rewards/seed';
import { meanAt, passAtK, seededRandom, wilson, type Interval } from './stats';
import { showWhere, type BadLine, type PredictionItem } from './types';
import { vqaAccuracy } from './vqa';

export type MetricName = 'exam-score' | 'letter-f1' | 'exact-match' | 'vqa' | 'pope' | `pass@${number}`;

export const METRIC_NAMES = ['exam-score', 'letter-f1', 'exact-match', 'vqa', 'pope', 'pass@K'] as const;

/** One question as a metric scored it. */
export interface Row {
  id: string;
  /** The question's score in [0, 1]: 0/1 for binary metrics, a fraction for VQA and pass@k. */
  score: number;
  /** Confusion counts: letters (letter-f1) or the yes class (POPE). */
  tp: number;
  fp: number;
  fn: number;
  /** POPE: the prediction read as yes. */
  yes?: boolean;
}

export interface Part {
  value: number;
  ci95: Interval;
}

export interface MetricResult {
  metric: MetricName;
  n: number;
  /** The headline number: the value itself, F1 for letter-f1, accuracy for POPE. */
  value: number;
  ci95: Interval;
  /** True when every row scores 0 or 1 (a paired comparison then uses McNemar's test). */
  binary: boolean;
  /** letter-f1: precision, recall, f1; POPE: accuracy, precision, recall, f1, yes_ratio. */
  parts?: Record<string, Part>;
  rows: Row[];
  bad: BadLine[];
}

const ANSWER = /<answer>([\s\S]*?)<\/answer>/;

/** The text inside the first <answer>…</answer>, else the whole text. */
export function answerText(text: string): string {
  const m = ANSWER.exec(text);
  return m ? m[1]! : text;
}

const STANDALONE_CAPITAL = /(?<![\p{L}\p{N}])[A-Z](?![\p{L}\p{N}])/gu;

/** The sorted set of standalone capital letters inside the first <answer>…</answer>, else in the text. */
export function predictedLetters(text: string): string[] {
  return [...new Set(answerText(text).match(STANDALONE_CAPITAL) ?? [])].sort();
}

/** Gold letters: a list's letters, a bare run of capitals ("AC"), else the standalone capitals. */
export function goldLetters(answer: string | readonly string[]): string[] {
  if (typeof answer !== 'string') return [...new Set(answer.flatMap((a) => goldLetters(a)))].sort();
  const bare = pyStrip(answer);
  if (/^[A-Z]+$/.test(bare)) return [...new Set(bare)].sort();
  return predictedLetters(bare);
}

/** Exact-match normal form: lowercased, ASCII punctuation removed, whitespace collapsed and trimmed. */
export function normalizeExact(s: string): string {
  return pyStrip(s.toLowerCase().replace(/[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '')).split(/\s+/).join(' ');
}

export const exactMatch = (prediction: string, answer: string | readonly string[]): boolean => {
  const p = normalizeExact(answerText(prediction));
  return (typeof answer === 'string' ? [answer] : answer).some((a) => normalizeExact(a) === p);
};

/**
 * POPE's own reading of an answer (RUCAIBox/POPE evaluate.py): keep the text before the first
 * ".", drop commas, split on spaces; "No", "no" or "not" among the words is no, anything else yes.
 * So "Yes, there is." is yes and "There is no dog." is no. Read inside <answer>…</answer> when present.
 */
export function popeSaysYes(text: string): boolean {
  let t = answerText(text);
  const dot = t.indexOf('.');
  if (dot !== -1) t = t.slice(0, dot);
  const words = t.replace(/,/g, '').split(' ');
  return !(words.includes('No') || words.includes('not') || words.includes('no'));
}

type Scorer = (item: PredictionItem) => Omit<Row, 'id'> | string;

const needPrediction = (item: PredictionItem): string | null => (typeof item.prediction === 'string' ? item.prediction : null);
const needAnswer = (item: PredictionItem): string | string[] | null => (item.answer === undefined ? null : item.answer);

function letterRow(item: PredictionItem): { pred: string[]; gold: string[] } | string {
  const p = needPrediction(item);
  const a = needAnswer(item);
  if (p === null) return 'no "prediction" (a string) to read letters from';
  if (a === null) return 'no "answer" (the gold letters)';
  const gold = goldLetters(a);
  if (!gold.length) return `the gold answer ${JSON.stringify(a)} holds no capital letters A-Z`;
  return { pred: predictedLetters(p), gold };
}

function confusion(pred: string[], gold: string[]): { tp: number; fp: number; fn: number } {
  const tp = pred.filter((l) => gold.includes(l)).length;
  return { tp, fp: pred.length - tp, fn: gold.length - tp };
}

/** Exam score and letter F1 read the same rows: the exact set match, and the letters' confusion. */
const letters: Scorer = (item) => {
  const r = letterRow(item);
  if (typeof r === 'string') return r;
  return { score: r.pred.join() === r.gold.join() ? 1 : 0, ...confusion(r.pred, r.gold) };
};

const SCORERS: Record<'exam-score' | 'letter-f1' | 'exact-match' | 'vqa' | 'pope', Scorer> = {
  'exam-score': letters,
  'letter-f1': letters,
  'exact-match': (item) => {
    const p = needPrediction(item);
    const a = needAnswer(item);
    if (p === null) return 'no "prediction" (a string)';
    if (a === null) return 'no "answer"';
    return { score: exactMatch(p, a) ? 1 : 0, tp: 0, fp: 0, fn: 0 };
  },
  vqa: (item) => {
    const p = needPrediction(item);
    const a = needAnswer(item);
    if (p === null) return 'no "prediction" (a string)';
    if (!Array.isArray(a) || a.length < 2) {
      return `VQA accuracy needs the annotators' answers (a list of at least 2), got ${a === null ? 'none' : JSON.stringify(a).slice(0, 80)}`;
    }
    return { score: vqaAccuracy(answerText(p), a), tp: 0, fp: 0, fn: 0 };
  },
  pope: (item) => {
    const p = needPrediction(item);
    const a = needAnswer(item);
    if (p === null) return 'no "prediction" (a string)';
    const gold = typeof a === 'string' ? pyStrip(a).toLowerCase() : '';
    if (gold !== 'yes' && gold !== 'no') return `POPE needs "answer" "yes" or "no", got ${JSON.stringify(a)}`;
    const yes = popeSaysYes(p);
    const g = gold === 'yes';
    return { score: yes === g ? 1 : 0, tp: yes && g ? 1 : 0, fp: yes && !g ? 1 : 0, fn: !yes && g ? 1 : 0, yes };
  },
};

/** pass@k verdicts: `correct` as given, else each generation judged by exact match against "answer". */
function passRow(item: PredictionItem, k: number): Omit<Row, 'id'> | string {
  let n: number;
  let c: number;
  if (Array.isArray(item.correct)) {
    n = item.correct.length;
    c = item.correct.filter(Boolean).length;
  } else if (typeof item.correct === 'boolean') {
    n = 1;
    c = item.correct ? 1 : 0;
  } else if (typeof item.correct === 'number') {
    if (typeof item.n !== 'number') return '"correct" is a count, so "n" (the number of generations) is needed';
    n = item.n;
    c = item.correct;
  } else {
    const gens = item.predictions ?? (item.prediction !== undefined ? [item.prediction] : null);
    if (!gens) return 'no "correct" verdicts and no "predictions" to judge';
    if (item.answer === undefined) return '"predictions" without "answer" cannot be judged';
    n = gens.length;
    c = gens.filter((g) => exactMatch(g, item.answer!)).length;
  }
  try {
    return { score: passAtK(n, c, k), tp: 0, fp: 0, fn: 0 };
  } catch (e) {
    return (e as Error).message;
  }
}

export function parseMetric(name: string): MetricName | null {
  if (Object.hasOwn(SCORERS, name)) return name as MetricName;
  const m = /^pass@([1-9]\d*)$/.exec(name);
  return m ? (name as MetricName) : null;
}

/** Each item scored by `metric`: rows in input order, bad items named. */
export function scoreItems(items: readonly PredictionItem[], metric: MetricName): { rows: Row[]; bad: BadLine[] } {
  const rows: Row[] = [];
  const bad: BadLine[] = [];
  const pass = /^pass@(\d+)$/.exec(metric);
  const scorer: Scorer = pass ? (it) => passRow(it, Number(pass[1])) : SCORERS[metric as keyof typeof SCORERS];
  const seen = new Map<string, string>();
  for (const item of items) {
    const first = seen.get(item.id);
    if (first !== undefined) {
      bad.push({ ...item.where, error: `id ${JSON.stringify(item.id)} already seen at ${first}; this one is not scored` });
      continue;
    }
    seen.set(item.id, showWhere(item.where));
    const r = scorer(item);
    if (typeof r === 'string') bad.push({ ...item.where, error: r });
    else rows.push({ id: item.id, ...r });
  }
  return { rows, bad };
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function sums(rows: readonly Row[], idx?: Int32Array): { tp: number; fp: number; fn: number; yes: number; m: number } {
  const s = { tp: 0, fp: 0, fn: 0, yes: 0, m: idx ? idx.length : rows.length };
  for (let i = 0; i < s.m; i++) {
    const r = rows[idx ? idx[i]! : i]!;
    s.tp += r.tp;
    s.fp += r.fp;
    s.fn += r.fn;
    if (r.yes) s.yes++;
  }
  return s;
}

export const f1Of = (tp: number, fp: number, fn: number): number => {
  const p = ratio(tp, tp + fp);
  const r = ratio(tp, tp + fn);
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
};

/** The headline statistic over `rows` (resampled by `idx` when given): what a paired bootstrap compares. */
export function headline(metric: MetricName, rows: readonly Row[], idx?: Int32Array): number {
  if (metric === 'letter-f1') {
    const s = sums(rows, idx);
    return f1Of(s.tp, s.fp, s.fn);
  }
  return meanAt(rows.map((r) => r.score), idx);
}

/**
 * Percentile bootstrap interval of an F1 (it has no Wilson interval): 1000 seeded resamples of
 * the questions, so a report is the same each run.
 */
function f1Interval(rows: readonly Row[]): Interval {
  if (!rows.length) return [0, 1];
  const n = rows.length;
  const tp = Int32Array.from(rows, (r) => r.tp);
  const fp = Int32Array.from(rows, (r) => r.fp);
  const fn = Int32Array.from(rows, (r) => r.fn);
  const values = new Float64Array(1000);
  const rnd = seededRandom(0x2545f491);
  for (let b = 0; b < 1000; b++) {
    let t = 0;
    let p = 0;
    let f = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rnd() * n);
      t += tp[j]!;
      p += fp[j]!;
      f += fn[j]!;
    }
    values[b] = f1Of(t, p, f);
  }
  values.sort();
  return [values[25]!, values[974]!];
}

/** Score the items and summarise: value, Wilson interval, parts, rows for pairing. */
export function evaluate(items: readonly PredictionItem[], metric: MetricName): MetricResult {
  const { rows, bad } = scoreItems(items, metric);
  const n = rows.length;
  const total = rows.reduce((s, r) => s + r.score, 0);
  const binary = rows.every((r) => r.score === 0 || r.score === 1);
  const base = { metric, n, rows, bad, binary };
  if (metric === 'letter-f1' || metric === 'pope') {
    const s = sums(rows);
    const precision = { value: ratio(s.tp, s.tp + s.fp), ci95: wilson(s.tp, s.tp + s.fp) };
    const recall = { value: ratio(s.tp, s.tp + s.fn), ci95: wilson(s.tp, s.tp + s.fn) };
    const f1 = { value: f1Of(s.tp, s.fp, s.fn), ci95: f1Interval(rows) };
    if (metric === 'letter-f1') return { ...base, value: f1.value, ci95: f1.ci95, binary: false, parts: { precision, recall, f1 } };
    const accuracy = { value: ratio(total, n), ci95: wilson(total, n) };
    const yes_ratio = { value: ratio(s.yes, n), ci95: wilson(s.yes, n) };
    return { ...base, value: accuracy.value, ci95: accuracy.ci95, parts: { accuracy, precision, recall, f1, yes_ratio } };
  }
  return { ...base, value: ratio(total, n), ci95: wilson(total, n) };
}
