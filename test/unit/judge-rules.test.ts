import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RulesJudge } from '../../src/core/judge/rules';
import { prepare } from '../../src/core/judge/input';
import { readAnswer, readConclusion } from '../../src/core/judge/answer';

const rules = new RulesJudge();
const judge = (completion: string, question = 'Q') => rules.judge(prepare({ completion, question }));
const chain = (think: string, answer: string) => `<think>${think}</think><answer>${answer}</answer>`;

test('answer extraction: letter sets, booleans, numbers, free text', () => {
  const cases: Array<[string, unknown]> = [
    ['B', { kind: 'choice', letters: ['B'] }],
    ['(B)', { kind: 'choice', letters: ['B'] }],
    ['B. Because the cube is left of the ball.', { kind: 'choice', letters: ['B'] }],
    ['A, C', { kind: 'choice', letters: ['A', 'C'] }],
    ['C and A', { kind: 'choice', letters: ['A', 'C'] }],
    ['(A)(D)', { kind: 'choice', letters: ['A', 'D'] }],
    ['Answer: D', { kind: 'choice', letters: ['D'] }],
    ['b', { kind: 'choice', letters: ['B'] }],
    ['Yes', { kind: 'bool', value: true }],
    ['false.', { kind: 'bool', value: false }],
    ['42', { kind: 'number', value: 42 }],
    ['1,250 meters', { kind: 'number', value: 1250 }],
    ['-3.5', { kind: 'number', value: -3.5 }],
    ['A cat on the mat', { kind: 'text', text: 'cat on mat' }],
    ['BAD', { kind: 'text', text: 'bad' }],
    ['The red umbrella.', { kind: 'text', text: 'red umbrella' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(readAnswer(text), want, text);
});

test('conclusion extraction: the last strong cue wins; weak cues only when no strong one', () => {
  assert.deepEqual(readConclusion('At first I think the answer is A. On reflection, the correct option is C.', 'choice')?.value, { kind: 'choice', letters: ['C'] });
  assert.deepEqual(readConclusion('The cup is left. Therefore, C.', 'choice')?.value, { kind: 'choice', letters: ['C'] });
  assert.deepEqual(readConclusion('Option B is correct because it is red.', 'choice')?.value, { kind: 'choice', letters: ['B'] });
  assert.deepEqual(readConclusion('So the answer is B. So I double-check A quickly.', 'choice')?.value, { kind: 'choice', letters: ['B'] });
  assert.equal(readConclusion('A cat sits. So a dog runs.', 'choice'), null, 'the article "A"/"a" is not an option');
  assert.deepEqual(readConclusion('So the statement is not true.', 'bool')?.value, { kind: 'bool', value: false });
  assert.deepEqual(readConclusion('There are 3 red and 4 blue, so 7 in total.', 'number')?.value, { kind: 'number', value: 7 });
  assert.equal(readConclusion('I look at the picture carefully.', 'choice'), null);
});

test('flags a stated conclusion that contradicts the answer, for each answer kind', () => {
  const cases: Array<[string, string]> = [
    [chain('The ball is red, so the answer is B.', 'C'), 'choice'],
    [chain('Options A and C both hold. The correct options are A and C.', 'A'), 'choice set'],
    [chain('The cube is behind the chair. Therefore the statement is false.', 'True'), 'bool'],
    [chain('2 apples plus 3 apples, so the answer is 5.', '6'), 'number'],
    [chain('The cat is clearly on the left. The answer is left.', 'right'), 'free text'],
    [chain('Comparing sizes, I choose (A).', '(D)'), 'choose'],
  ];
  for (const [c, what] of cases) {
    const v = judge(c);
    assert.equal(v.aligns, false, `${what}: ${v.why}`);
    assert.equal(v.type, 'contradiction', what);
    assert.equal(v.tier, 'rules');
  }
  assert.match(judge(cases[0]![0]).why, /concludes B .* answer is C/);
});

test('aligned chains are not flagged', () => {
  const cases: Array<[string, string]> = [
    [chain('The ball is red, so the answer is B.', 'B'), 'letter'],
    [chain('At first A looks right, but the correct option is C.', 'C. Because the cup is taller.'), 'revised'],
    [chain('Both hold, so the answer is A, C.', 'C, A'), 'set in another order'],
    [chain('The chair is in front. So the statement is true.', 'Yes'), 'yes = true'],
    [chain('2 plus 3 is 5. Therefore the total is 5.', '5 apples'), 'number with unit'],
    [chain('The umbrella is red, so the answer is the red umbrella.', 'red umbrella'), 'free text'],
  ];
  for (const [c, what] of cases) {
    const v = judge(c);
    assert.equal(v.aligns, true, `${what}: ${v.why}`);
    assert.equal(v.type, null, what);
  }
});

test('uncertain (null) where the rules cannot tell, never a false flag', () => {
  const cases: Array<[string, string]> = [
    [chain('I look at the picture. The ball seems red and round.', 'B'), 'no conclusion stated'],
    [chain('So I look to the left of the image.', 'the blue car'), 'weak cue, free text'],
    [chain('The answer is the one near the window, which is large.', 'the wooden cabinet with two doors'), 'long free text'],
    ['no tags at all, just text', 'no answer'],
  ];
  for (const [c, what] of cases) {
    const v = judge(c);
    assert.equal(v.aligns, null, `${what}: ${v.why}`);
    assert.equal(v.type, null, what);
  }
  assert.match(judge('no tags at all').why, /No final answer/);
});

test('flags an answer label naming an object the reasoning never mentions', () => {
  const c = chain('The dog [10,10,50,50 dog] sits by the door.', '[10,10,50,50 cat]');
  const v = judge(c);
  assert.equal(v.aligns, false);
  assert.equal(v.type, 'missing_detail');
  assert.match(v.why, /"cat", which the reasoning never mentions/);
  // Qwen2.5 JSON syntax, and a plural in the reasoning still counts as mentioned.
  const ok = judge(chain('Two cups [5,5,20,20 cup] on the table.', '{"bbox_2d": [5, 5, 20, 20], "label": "cup"}'));
  assert.equal(ok.aligns, true, ok.why);
  const bad = judge(chain('Two cups [5,5,20,20 cup] on the table.', '{"bbox_2d": [5, 5, 20, 20], "label": "spoon"}'));
  assert.equal(bad.aligns, false);
  assert.equal(bad.type, 'missing_detail');
});

test('flags an answer box that matches none of the reasoning boxes, by the IoU threshold', () => {
  // Same label, moved box: [0,0,10,10] vs [100,100,110,110] → IoU 0.
  const moved = judge(chain('The dog [0,0,10,10 dog] is small.', '[100,100,110,110 dog]'));
  assert.equal(moved.aligns, false);
  assert.equal(moved.type, 'contradiction');
  assert.match(moved.why, /reasoning located it at \[0, 0, 10, 10\] \(IoU 0\.00\)/);
  // Overlap [0,0,10,10] vs [0,0,10,20]: IoU = 100 / 200 = 0.5 — at the default threshold, kept.
  assert.equal(judge(chain('The dog [0,0,10,10 dog] is small.', '[0,0,10,20 dog]')).aligns, true);
  // The same pair under a stricter threshold is flagged.
  const strict = new RulesJudge({ iouThreshold: 0.6 }).judge(prepare({ completion: chain('The dog [0,0,10,10 dog] is small.', '[0,0,10,20 dog]'), question: 'Q' }));
  assert.equal(strict.aligns, false);
  assert.match(strict.why, /IoU 0\.50/);
  assert.notEqual(strict.promptHash, rules.promptHash, 'rule options are part of the verdict identity');
  // An unlabeled answer box far from every reasoning box.
  const bare = judge(chain('A bird [0,0,10,10 bird] flies.', '[50, 50, 60, 60]'));
  assert.equal(bare.aligns, false);
  assert.equal(bare.type, 'missing_detail');
  // A box answer with no boxes in the reasoning cannot be checked.
  assert.equal(judge(chain('A bird flies over the lake.', '[50,50,60,60 bird]')).aligns, null);
});

test('verdict keys are content hashes: the same completion and question give the same key', () => {
  const a = judge(chain('so the answer is B.', 'B'), 'Which?');
  const b = judge(chain('so the answer is B.', 'B'), 'Which?');
  const c = judge(chain('so the answer is B.', 'B'), 'Which one?');
  assert.equal(a.key, b.key);
  assert.notEqual(a.key, c.key);
  assert.equal(a.model, 'rules-v1');
});
