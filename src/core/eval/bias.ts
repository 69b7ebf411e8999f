/**
 * The text-only bias probe of a benchmark (docs/eval.md "Bias probe"), the bias study's check
 * that a dataset can be answered without the image: the distribution of gold answers, the
 * prior-only baseline (always the majority answer, scored by the benchmark's own metric), and,
 * when the questions are in the file and the answers are few, a cross-validated naive Bayes
 * classifier on the question's words alone.
 */
import { evaluate, goldLetters, normalizeExact, type MetricName } from './metrics';
import { seededRandom, wilson, type Interval } from './stats';
import type { PredictionItem } from './types';
import { normalizeVqaAnswer } from './vqa';

export interface BiasProbe {
  n: number;
  /** Gold answers by normal form, most frequent first: the form, its first spelling in the file, the count. */
  distribution: { answer: string; shown: string; count: number }[];
  distinct: number;
  majority: { answer: string; value: number; ci95: Interval };
  /** 5-fold naive Bayes on question words: null when questions are missing or answers > 20. */
  text_only: { value: number; ci95: Interval; n: number } | null;
}

/** The answer a question's gold reduces to (letters joined, yes/no, the annotators' most common), and its spelling. */
function goldKey(item: PredictionItem, metric: MetricName): { key: string; shown: string } | null {
  const a = item.answer;
  if (a === undefined) return null;
  if (metric === 'exam-score' || metric === 'letter-f1') {
    const l = goldLetters(a);
    return l.length ? { key: l.join(', '), shown: l.join(', ') } : null;
  }
  if (metric === 'vqa') {
    if (!Array.isArray(a) || !a.length) return null;
    const counts = new Map<string, { n: number; shown: string }>();
    for (const x of a) {
      const k = normalizeVqaAnswer(x);
      const c = counts.get(k) ?? { n: 0, shown: x };
      c.n++;
      counts.set(k, c);
    }
    const [key, top] = [...counts.entries()].sort((p, q) => q[1].n - p[1].n || (p[0] < q[0] ? -1 : 1))[0]!;
    return { key, shown: top.shown };
  }
  const raw = typeof a === 'string' ? a : a[0] ?? '';
  const key = normalizeExact(raw);
  return key ? { key, shown: raw } : null;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Correct predictions of a multinomial naive Bayes (add-one smoothing) on question words, by
 * 5-fold cross-validation over a seeded shuffle (the same folds every run, and no alignment with
 * the file's order). Not leave-one-out: on balanced answers leaving one out always tilts the prior
 * against the held-out answer.
 */
function naiveBayesCv(keys: string[], questions: string[], folds = 5): number {
  const tokens = questions.map((q) => q.toLowerCase().match(WORD) ?? []);
  const rnd = seededRandom(0x5eed);
  const fold = keys.map((_, i) => ({ i, r: rnd() })).sort((a, b) => a.r - b.r).reduce((acc, x, pos) => ((acc[x.i] = pos % folds), acc), new Array<number>(keys.length));
  let right = 0;
  for (let f = 0; f < folds; f++) {
    const train = keys.map((_, i) => i).filter((i) => fold[i] !== f);
    if (!train.length) continue;
    const model = fitNb(train.map((i) => keys[i]!), train.map((i) => tokens[i]!));
    keys.forEach((k, i) => {
      if (fold[i] === f && model(tokens[i]!) === k) right++;
    });
  }
  return right;
}

function fitNb(keys: string[], tokens: string[][]): (words: string[]) => string {
  const classes = [...new Set(keys)].sort();
  const classCount = new Map<string, number>(classes.map((c) => [c, 0]));
  const wordCount = new Map<string, Map<string, number>>(classes.map((c) => [c, new Map()]));
  const totalWords = new Map<string, number>(classes.map((c) => [c, 0]));
  const vocab = new Set<string>();
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
  return (words) => {
    let best = classes[0]!;
    let bestScore = -Infinity;
    for (const c of classes) {
      let s = Math.log(classCount.get(c)! / keys.length);
      const wc = wordCount.get(c)!;
      const tw = totalWords.get(c)!;
      for (const w of words) s += Math.log(((wc.get(w) ?? 0) + 1) / (tw + V));
      if (s > bestScore) {
        best = c;
        bestScore = s;
      }
    }
    return best;
  };
}

/** The probe over one benchmark's items (gold answers and questions; predictions are not used). */
export function biasProbe(items: readonly PredictionItem[], metric: MetricName): BiasProbe | null {
  if (metric.startsWith('pass@')) return null;
  const keyed = items.flatMap((it) => {
    const g = goldKey(it, metric);
    return g ? [{ it, ...g }] : [];
  });
  if (!keyed.length) return null;
  const counts = new Map<string, { count: number; shown: string }>();
  for (const { key, shown } of keyed) {
    const c = counts.get(key) ?? { count: 0, shown };
    c.count++;
    counts.set(key, c);
  }
  const distribution = [...counts.entries()].map(([answer, c]) => ({ answer, shown: c.shown, count: c.count })).sort((a, b) => b.count - a.count || (a.answer < b.answer ? -1 : 1));
  const top = distribution[0]!.answer;
  // The majority answer as every question's prediction, scored by the benchmark's own metric.
  const asPrediction = metric === 'exam-score' || metric === 'letter-f1' ? `<answer>${top}</answer>` : distribution[0]!.shown;
  const prior = evaluate(keyed.map(({ it }) => ({ ...it, prediction: asPrediction, predictions: undefined })), metric);
  let text_only: BiasProbe['text_only'] = null;
  const withQ = keyed.filter((x) => typeof x.it.question === 'string' && x.it.question !== '');
  if (withQ.length >= 2 && withQ.length === keyed.length && counts.size <= 20) {
    const right = naiveBayesCv(withQ.map((x) => x.key), withQ.map((x) => x.it.question!));
    text_only = { value: right / withQ.length, ci95: wilson(right, withQ.length), n: withQ.length };
  }
  return { n: keyed.length, distribution, distinct: counts.size, majority: { answer: distribution[0]!.shown, value: prior.value, ci95: prior.ci95 }, text_only };
}
