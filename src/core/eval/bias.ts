/**
 * The text-only bias probe of a benchmark (docs/eval.md "Bias probe"), the bias study's check
 * that a dataset can be answered without the image: the distribution of gold answers, the
 * prior-only baseline (always the majority answer, scored by the benchmark's own metric), and,
 * when the questions are in the file and the answers are few, a leave-one-out naive Bayes
 * classifier on the question's words alone.
 */
import { evaluate, goldLetters, normalizeExact, type MetricName } from './metrics';
import { wilson, type Interval } from './stats';
import type { PredictionItem } from './types';
import { normalizeVqaAnswer } from './vqa';

export interface BiasProbe {
  n: number;
  /** Gold answers in their normal form, most frequent first, with counts. */
  distribution: { answer: string; count: number }[];
  distinct: number;
  majority: { answer: string; value: number; ci95: Interval };
  /** Leave-one-out naive Bayes on question words: null when questions are missing or answers > 20. */
  text_only: { value: number; ci95: Interval; n: number } | null;
}

/** The answer a question's gold reduces to: letters joined, yes/no, the annotators' most common one. */
function goldKey(item: PredictionItem, metric: MetricName): string | null {
  const a = item.answer;
  if (a === undefined) return null;
  if (metric === 'exam-score' || metric === 'letter-f1') {
    const l = goldLetters(a);
    return l.length ? l.join(', ') : null;
  }
  if (metric === 'vqa') {
    if (!Array.isArray(a) || !a.length) return null;
    const counts = new Map<string, number>();
    for (const x of a.map(normalizeVqaAnswer)) counts.set(x, (counts.get(x) ?? 0) + 1);
    return [...counts.entries()].sort((p, q) => q[1] - p[1] || (p[0] < q[0] ? -1 : 1))[0]![0];
  }
  return normalizeExact(typeof a === 'string' ? a : a[0] ?? '') || null;
}

const WORD = /[\p{L}\p{N}]+/gu;

function naiveBayesLoo(keys: string[], questions: string[]): number {
  const classes = [...new Set(keys)];
  const classCount = new Map<string, number>(classes.map((c) => [c, 0]));
  const wordCount = new Map<string, Map<string, number>>(classes.map((c) => [c, new Map()]));
  const totalWords = new Map<string, number>(classes.map((c) => [c, 0]));
  const vocab = new Set<string>();
  const tokens = questions.map((q) => q.toLowerCase().match(WORD) ?? []);
  keys.forEach((k, i) => {
    classCount.set(k, classCount.get(k)! + 1);
    const wc = wordCount.get(k)!;
    for (const w of tokens[i]!) {
      wc.set(w, (wc.get(w) ?? 0) + 1);
      vocab.add(w);
    }
    totalWords.set(k, totalWords.get(k)! + tokens[i]!.length);
  });
  const V = vocab.size || 1;
  const n = keys.length;
  let right = 0;
  keys.forEach((own, i) => {
    const mine = new Map<string, number>();
    for (const w of tokens[i]!) mine.set(w, (mine.get(w) ?? 0) + 1);
    let best = '';
    let bestScore = -Infinity;
    for (const c of classes) {
      const self = c === own;
      const cc = classCount.get(c)! - (self ? 1 : 0);
      if (cc <= 0) continue;
      let s = Math.log(cc / (n - 1));
      const wc = wordCount.get(c)!;
      const tw = totalWords.get(c)! - (self ? tokens[i]!.length : 0);
      for (const [w, k] of mine) s += k * Math.log(((wc.get(w) ?? 0) - (self ? k : 0) + 1) / (tw + V));
      if (s > bestScore || (s === bestScore && c < best)) {
        best = c;
        bestScore = s;
      }
    }
    if (best === own) right++;
  });
  return right;
}

/** The probe over one benchmark's items (gold answers and questions; predictions are not used). */
export function biasProbe(items: readonly PredictionItem[], metric: MetricName): BiasProbe | null {
  if (metric.startsWith('pass@')) return null;
  const keyed = items.map((it) => ({ it, key: goldKey(it, metric) })).filter((x): x is { it: PredictionItem; key: string } => x.key !== null);
  if (!keyed.length) return null;
  const counts = new Map<string, number>();
  for (const { key } of keyed) counts.set(key, (counts.get(key) ?? 0) + 1);
  const distribution = [...counts.entries()].map(([answer, count]) => ({ answer, count })).sort((a, b) => b.count - a.count || (a.answer < b.answer ? -1 : 1));
  const top = distribution[0]!.answer;
  // The majority answer as every question's prediction, scored by the benchmark's own metric.
  const asPrediction = metric === 'exam-score' || metric === 'letter-f1' ? `<answer>${top}</answer>` : top;
  const prior = evaluate(keyed.map(({ it }) => ({ ...it, prediction: asPrediction, predictions: undefined })), metric);
  let text_only: BiasProbe['text_only'] = null;
  const withQ = keyed.filter((x) => typeof x.it.question === 'string' && x.it.question !== '');
  if (withQ.length >= 2 && withQ.length === keyed.length && counts.size <= 20) {
    const right = naiveBayesLoo(withQ.map((x) => x.key), withQ.map((x) => x.it.question!));
    text_only = { value: right / withQ.length, ci95: wilson(right, withQ.length), n: withQ.length };
  }
  return { n: keyed.length, distribution, distinct: counts.size, majority: { answer: top, value: prior.value, ci95: prior.ci95 }, text_only };
}
