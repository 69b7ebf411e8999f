/**
 * The editor side of training control, its parts without VS Code: profile-file edits, launch
 * script detection, progress text, terminal text and source links, chart slots, the Run Metrics
 * protocol guards and HTML shell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfiles } from '../../src/core/training/profile';
import { replayPreset } from '../../src/core/training/presets';
import { addProfile, profileNameOffsets, uniqueName } from '../../src/training/profileFile';
import { launchLine, scriptProfile } from '../../src/training/launchScript';
import { clockText, progressText } from '../../src/training/progressText';
import { findSourceLinks, resolveSource, terminalText } from '../../src/training/outputText';
import { panelHtml } from '../../src/panelHtml';
import { isRunsHostMessage, isRunsWebviewMessage, metricView } from '../../src/protocol/runs';
import { chartSlot } from '../../webview/runs/chart-slots';

test('adding a preset creates the file, and renames a preset whose name is taken', () => {
  const preset = replayPreset({ cli: ['/usr/bin/node', '/ext/dist/cli.js'], recorded: '/ext/dist/sample' });
  const first = addProfile(undefined, preset);
  assert.equal(first.name, 'replay');
  const profiles = parseProfiles(first.text);
  assert.deepEqual(profiles.map((p) => p.name), ['replay']);
  assert.deepEqual(profiles[0]!.command, ['/usr/bin/node', '/ext/dist/cli.js', 'replay', '/ext/dist/sample', '--speed', '1', '--out', '${output_dir}/rollouts.jsonl']);

  const second = addProfile(first.text, preset);
  assert.equal(second.name, 'replay-2');
  assert.deepEqual(parseProfiles(second.text).map((p) => p.name), ['replay', 'replay-2']);

  const kept = addProfile('{"$schema": "x", "profiles": []}', preset);
  assert.equal((JSON.parse(kept.text) as { $schema: string }).$schema, 'x', 'other keys stay');
  assert.throws(() => addProfile('{"profiles": [ // comment\n]}', preset), /not plain JSON/);
  assert.throws(() => addProfile('[1]', preset), /JSON object/);
  assert.equal(uniqueName('a', ['a', 'a-2']), 'a-3');
});

test('profile names are found where they are written, first occurrence of each', () => {
  const text = '{\n  "profiles": [\n    { "name": "sft", "command": ["a"] },\n    {"name":"grpo \\"v2\\"", "command": ["b"]}\n  ]\n}';
  const at = profileNameOffsets(text, ['sft', 'grpo "v2"', 'missing']);
  assert.equal(at.size, 2);
  assert.ok(text.slice(at.get('sft')).startsWith('"name": "sft"'));
  assert.ok(text.slice(at.get('grpo "v2"')).startsWith('"name":"grpo \\"v2\\""'));
  assert.equal(at.get('sft'), text.indexOf('"name": "sft"'));
});

test('launch scripts: torchrun, accelerate launch and python -m verl, not comments or look-alikes', () => {
  assert.equal(launchLine('#!/bin/bash\n# torchrun in a comment\nexport X=1\ncd src && torchrun --nproc_per_node=8 grpo.py \\\n  --bf16\n'), 3);
  assert.equal(launchLine('set -e\nCUDA_VISIBLE_DEVICES=0,1 accelerate launch train.py\n'), 1);
  assert.equal(launchLine('python3 -u -m verl.trainer.main_ppo algorithm.adv_estimator=grpo\n'), 0);
  assert.equal(launchLine('python -m verl.trainer.main config=x.yaml\n'), 0);
  assert.equal(launchLine('echo torchrunner\npython train.py\naccelerate config\n'), undefined);
  assert.equal(launchLine('echo hi # torchrun\n'), undefined);
  assert.deepEqual(scriptProfile('/ws/scripts/run_grpo.sh', '/ws'), { name: 'scripts/run_grpo.sh', command: ['bash', '/ws/scripts/run_grpo.sh'] });
  assert.equal(scriptProfile('/elsewhere/x.sh', '/ws').name, '/elsewhere/x.sh');
});

test('progress reads like tqdm: step/total, it/s or s/it, ETA as a clock', () => {
  assert.equal(clockText(400), '06:40');
  assert.equal(clockText(3723), '1:02:03');
  assert.equal(progressText({ step: 12, total: 500, rate: 1.22, eta: 400 }), '12/500 · 1.22 it/s · ETA 06:40');
  assert.equal(progressText({ step: 3, total: 10, rate: 0.25, eta: 28 }), '3/10 · 4.00 s/it · ETA 00:28');
  assert.equal(progressText({ step: 3, total: 10, rate: 0.25, eta: 28 }, { rate: false }), '3/10 · ETA 00:28');
  assert.equal(progressText({ step: 0, total: 10 }), '0/10');
});

test('terminal text gets CRLF line ends and keeps tqdm redraws', () => {
  assert.equal(terminalText('a\nb\r\n 1/9\r 2/9\n'), 'a\r\nb\r\n 1/9\r 2/9\r\n');
});

test('source links in tracebacks and warnings resolve against the run folder', () => {
  const tb = '  File "/opt/r1/grpo.py", line 212, in compute_loss';
  assert.deepEqual(findSourceLinks(tb), [{ start: 2, length: 32, file: '/opt/r1/grpo.py', line: 212 }]);
  assert.deepEqual(findSourceLinks('src/open_r1/trainer.py:88: UserWarning: x'), [{ start: 0, length: 25, file: 'src/open_r1/trainer.py', line: 88 }]);
  assert.deepEqual(findSourceLinks('loss=0.3 step 12/500'), []);
  const dir = mkdtempSync(join(tmpdir(), 'grpo-links-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'grpo.py'), 'x = 1\n');
    assert.equal(resolveSource('src/grpo.py', dir), join(dir, 'src', 'grpo.py'));
    assert.equal(resolveSource(join(dir, 'src', 'grpo.py'), '/nowhere'), join(dir, 'src', 'grpo.py'));
    assert.equal(resolveSource('src/missing.py', dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('chart slots take every trainer\'s spelling; one chart per reward function', () => {
  assert.equal(chartSlot('reward')?.key, 'reward');
  assert.equal(chartSlot('critic/score/mean')?.key, 'reward');
  assert.equal(chartSlot('rewards/accuracy_reward')?.key, 'reward:accuracy_reward');
  assert.equal(chartSlot('rewards/accuracy_reward/mean')?.key, 'reward:accuracy_reward');
  assert.equal(chartSlot('rewards/accuracy_reward/std'), undefined);
  assert.equal(chartSlot('objective/kl')?.key, 'kl');
  assert.equal(chartSlot('actor/kl_loss')?.key, 'kl');
  assert.equal(chartSlot('completions/mean_length')?.key, 'completion_length');
  assert.equal(chartSlot('response_length/mean')?.key, 'completion_length');
  assert.equal(chartSlot('actor/lr')?.key, 'learning_rate');
  assert.equal(chartSlot('loss')?.key, 'loss');
  assert.equal(chartSlot('grad_norm'), undefined);
});

test('Run Metrics protocol: webview messages checked, non-finite values travel as null', () => {
  assert.equal(isRunsWebviewMessage({ type: 'ready' }), true);
  assert.equal(isRunsWebviewMessage({ type: 'openRollouts', run: 'r1', step: 10 }), true);
  assert.equal(isRunsWebviewMessage({ type: 'openRollouts', run: 'r1' }), true);
  assert.equal(isRunsWebviewMessage({ type: 'openRollouts', run: 5 }), false);
  assert.equal(isRunsWebviewMessage({ type: 'openRollouts', run: 'r1', step: 'x' }), false);
  assert.equal(isRunsWebviewMessage({ type: 'launch' }), false);
  assert.equal(isRunsHostMessage({ type: 'gpusOff', message: 'm' }), true);
  assert.equal(isRunsHostMessage({ type: 'nope' }), false);
  assert.deepEqual(metricView(3, 'loss', NaN), { step: 3, name: 'loss', value: null });
  assert.deepEqual(metricView(3, 'loss', -Infinity), { step: 3, name: 'loss', value: null });
  assert.deepEqual(metricView(3, 'loss', 0.5), { step: 3, name: 'loss', value: 0.5 });
  // JSON is what postMessage carries: null survives, NaN would not.
  assert.equal(JSON.parse(JSON.stringify(metricView(1, 'kl', NaN))).value, null);
});

test('panel HTML (Run Metrics, Run Overview, Alignment): strict CSP with the nonce, URIs attribute-escaped, one root', () => {
  const html = panelHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'abc+/=', scriptUri: 'https://x/runs.js?a="b"', styleUri: 'https://x/runs.css', title: 'Run <Metrics>', rootId: 'run-metrics' });
  assert.match(html, /content="default-src 'none'; style-src https:\/\/x\.vscode-cdn\.net 'nonce-abc\+\/='; script-src 'nonce-abc\+\/='"/);
  assert.ok(html.includes('src="https://x/runs.js?a=&quot;b&quot;"'));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes('<script type="module" nonce="abc+/="'));
  assert.ok(html.includes('<title>Run &lt;Metrics&gt;</title>'));
  assert.ok(html.includes('<main id="run-metrics" data-testid="run-metrics"></main>'));
});
