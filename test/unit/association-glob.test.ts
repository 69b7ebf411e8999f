/** Which files a `workbench.editorAssociations` glob names (src/viewer/associationGlob.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatches } from '../../src/viewer/associationGlob';

test('association globs: file-name patterns, path patterns, ** and ?', () => {
  const f = '/runs/a/step-1.rollouts.jsonl';
  assert.ok(globMatches('*.rollouts.jsonl', f));
  assert.ok(globMatches('*.jsonl', f));
  assert.ok(globMatches('**/*.rollouts.jsonl', f));
  assert.ok(globMatches('/runs/**', f));
  assert.ok(globMatches('step-?.rollouts.jsonl', f));
  assert.ok(globMatches('*.ROLLOUTS.jsonl', f), 'case-insensitive');
  assert.ok(!globMatches('*.json', f));
  assert.ok(!globMatches('/other/**', f));
  assert.ok(!globMatches('a/*.jsonl', f), 'a path pattern is matched against the whole path');
  assert.ok(!globMatches('step-(1).rollouts.jsonl', f), 'regex characters are literal');
  assert.ok(globMatches('step-(1).jsonl', '/x/step-(1).jsonl'));
});
