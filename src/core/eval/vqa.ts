/**
 * VQA accuracy exactly as the official evaluation script computes it (GT-Vision-Lab/VQA,
 * PythonEvaluationTools/vqaEvaluation/vqaEval.py), quirks included; docs/eval.md "VQA accuracy"
 * lists them. Per question: the prediction and the annotators' answers have "\n" and "\t" turned
 * into spaces and are stripped; only when the annotators disagree (more than one distinct answer)
 * are all of them normalised (punctuation, then number words, articles and contractions); then
 * each annotator is left out in turn and the prediction scores min(#matching others / 3, 1); the
 * question's accuracy is the mean of those scores (10 annotators: the 10 choose-9 subsets).
 */
import { pyStrip } from '../rewards/seed';

/** The official contraction table, copied entry for entry (its "somebody'd" → "somebodyd" too). */
const CONTRACTIONS: Record<string, string> = {
  "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
  "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
  "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've",
  "hasnt": "hasn't", "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've",
  "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've",
  "I'dve": "I'd've", "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've",
  "it'dve": "it'd've", "itll": "it'll", "let's": "let's", "maam": "ma'am", "mightnt": "mightn't",
  "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've",
  "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've",
  "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at",
  "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've",
  "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't", "shouldnt've": "shouldn't've",
  "shouldn'tve": "shouldn't've", "somebody'd": "somebodyd", "somebodyd've": "somebody'd've",
  "somebody'dve": "somebody'd've", "somebodyll": "somebody'll", "somebodys": "somebody's",
  "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've",
  "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd",
  "somethingd've": "something'd've", "something'dve": "something'd've",
  "somethingll": "something'll", "thats": "that's", "thered": "there'd", "thered've": "there'd've",
  "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd",
  "theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're",
  "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've",
  "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're", "whats": "what's",
  "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's",
  "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've",
  "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're",
  "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
  "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
  "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've",
  "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've",
  "youll": "you'll", "youre": "you're", "youve": "you've"
};

const NUMBER_WORDS: Record<string, string> = {
  none: '0', zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
};
const ARTICLES = new Set(['a', 'an', 'the']);
const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const COMMA_STRIP = /(\d)(,)(\d)/;
// The original's "(?!<=\d)" is a lookahead (a typo for a lookbehind), so in effect any "." not
// followed by a digit goes; kept as written. Its re.sub(..., re.UNICODE) passes re.UNICODE (32)
// as the count: at most 32 periods are removed, and \d stays ASCII.
const PERIOD_STRIP = /(?!<=\d)(\.)(?!\d)/g;
const PERIOD_COUNT = 32;

/** Python's str.split() with no argument: runs of Unicode whitespace, no empty pieces. */
const PY_WS = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const pySplit = (s: string): string[] => s.split(PY_WS).filter((w) => w !== '');

const replaceAll = (s: string, from: string, to: string): string => s.split(from).join(to);

/** vqaEval.processPunctuation. */
export function processPunctuation(inText: string): string {
  let out = inText;
  const commaNumber = COMMA_STRIP.test(inText);
  for (const p of PUNCT) {
    // Tested on the input text, replaced in the running output, as the original does.
    if (inText.includes(p + ' ') || inText.includes(' ' + p) || commaNumber) out = replaceAll(out, p, '');
    else out = replaceAll(out, p, ' ');
  }
  let removed = 0;
  return out.replace(PERIOD_STRIP, (m) => (removed++ < PERIOD_COUNT ? '' : m));
}

/** vqaEval.processDigitArticle: lowercase, number words to digits, articles out, contractions in. */
export function processDigitArticle(inText: string): string {
  const words: string[] = [];
  for (const w of pySplit(inText.toLowerCase())) {
    const word = Object.hasOwn(NUMBER_WORDS, w) ? NUMBER_WORDS[w]! : w;
    if (!ARTICLES.has(word)) words.push(word);
  }
  return words.map((w) => (Object.hasOwn(CONTRACTIONS, w) ? CONTRACTIONS[w]! : w)).join(' ');
}

const CACHE = new Map<string, string>();

/** Both normalisation steps, as applied to each answer when the annotators disagree (memoised: answers repeat). */
export function normalizeVqaAnswer(s: string): string {
  let v = CACHE.get(s);
  if (v === undefined) {
    v = processDigitArticle(processPunctuation(s));
    if (CACHE.size >= 200_000) CACHE.clear();
    CACHE.set(s, v);
  }
  return v;
}

const clean = (s: string): string => pyStrip(s.replace(/\n/g, ' ').replace(/\t/g, ' '));

/** One question's VQA accuracy in [0, 1]. `answers` are the annotators' answers, in any number ≥ 1. */
export function vqaAccuracy(prediction: string, answers: readonly string[]): number {
  if (!answers.length) throw new RangeError('VQA accuracy needs the annotators\' answers');
  let gts = answers.map(clean);
  let res = clean(prediction);
  if (new Set(gts).size > 1) {
    gts = gts.map(normalizeVqaAnswer);
    res = normalizeVqaAnswer(res);
  }
  let total = 0;
  for (let left = 0; left < gts.length; left++) {
    let matching = 0;
    for (let j = 0; j < gts.length; j++) if (j !== left && gts[j] === res) matching++;
    total += Math.min(1, matching / 3);
  }
  return total / gts.length;
}
