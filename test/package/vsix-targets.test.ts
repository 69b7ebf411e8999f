/**
 * What each VSIX of scripts/package-targets.sh holds (issue 13): its target platform in the
 * manifest, the bundles, and the ONNX runtime binaries of its own platform only; the universal
 * one (and darwin-x64, for which onnxruntime-node ships no binaries) none, and its CLI says so
 * when the local tier is asked for. The host platform's VSIX runs the local tier for real from
 * its extracted files. Run after the script (`.ci/run` does both):
 *   bash scripts/package-targets.sh && node --import tsx --test test/package/vsix-targets.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Zip } from '../support/zip';
import { modelFolder } from '../support/tinyNli';

const ROOT = resolve(__dirname, '../..');
const DIR = resolve(ROOT, process.env.VSIX_OUT_DIR ?? 'out/vsix');
/** Targets and the onnxruntime-node binary folder each must carry (null: none, no local tier). */
const TARGETS: Record<string, string | null> = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'darwin-x64': null,
  'win32-x64': 'win32/x64',
  universal: null,
};
const BINARY = { linux: 'onnxruntime_binding.node', darwin: 'onnxruntime_binding.node', win32: 'onnxruntime_binding.node' } as const;
const ORT_BIN = /^extension\/dist\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//;

const scratch = mkdtempSync(join(tmpdir(), 'grpo-vsix-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const vsix = (t: string) => new Zip(join(DIR, `grpo-studio-${t}.vsix`));

/** Extracts the entries under `extension/` into a fresh folder; returns it. */
function extract(zip: Zip, name: string): string {
  const to = join(scratch, name);
  for (const e of zip.entries) {
    if (!e.name.startsWith('extension/') || e.name.endsWith('/')) continue;
    const path = join(to, e.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, zip.read(e.name));
  }
  return join(to, 'extension');
}

function judgeLocal(extension: string): { status: number | null; stdout: string; stderr: string } {
  const run = join(scratch, 'run.rollouts.jsonl');
  writeFileSync(run, JSON.stringify({ v: 1, completion: '<think>the ball is not red</think><answer>B</answer>' }) + '\n');
  // Run from the scratch folder: nothing there resolves onnxruntime-node but the VSIX's own copy.
  return spawnSync(process.execPath, [join(extension, 'dist/cli.js'), 'judge', run, '--tier', 'local', '--local-model', modelFolder(true), '--json'], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: '' },
  });
}

for (const [target, own] of Object.entries(TARGETS)) {
  test(`${target}: manifest names the target, bundles present, ONNX binaries ${own ?? 'none'}`, () => {
    const zip = vsix(target);
    const names = zip.names();
    const manifest = zip.read('extension.vsixmanifest').toString('utf8');
    if (target === 'universal') assert.doesNotMatch(manifest, /TargetPlatform=/, 'universal: no target platform');
    else assert.match(manifest, new RegExp(`TargetPlatform="${target}"`));
    for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/nli-worker.js', 'extension/dist/webview/viewer.js']) {
      assert.ok(names.includes(f), `${target} holds ${f}`);
    }
    const offending = names.filter((n) => /^extension\/(src|test|node_modules|scripts|bench|webview)\//.test(n) || n.endsWith('.map'));
    assert.deepEqual(offending, [], 'no sources, tests, top-level node_modules or source maps');

    const platforms = new Set(names.flatMap((n) => {
      const m = ORT_BIN.exec(n);
      return m ? [`${m[1]}/${m[2]}`] : [];
    }));
    if (own === null) {
      assert.deepEqual([...platforms], [], `${target}: no ONNX binaries`);
      assert.deepEqual(names.filter((n) => n.startsWith('extension/dist/node_modules/')), [], `${target}: no ONNX runtime at all`);
    } else {
      assert.deepEqual([...platforms], [own], `${target}: only its own binaries`);
      const platform = own.split('/')[0] as keyof typeof BINARY;
      assert.ok(names.some((n) => ORT_BIN.test(n) && n.endsWith(`/${BINARY[platform]}`)), `${target}: the binding itself`);
      assert.ok(names.some((n) => n.startsWith('extension/dist/node_modules/onnxruntime-common/')), `${target}: onnxruntime-common`);
    }
  });
}

test('the universal VSIX says the local tier is not in it when the tier is asked for (its own CLI, extracted)', () => {
  const ext = extract(vsix('universal'), 'universal');
  const r = judgeLocal(ext);
  assert.notEqual(r.status, 0, 'the run fails');
  const said = r.stderr + r.stdout;
  assert.match(said, /local judge tier is not available in this build/, said);
  assert.match(said, /VSIX for your platform \(linux-x64, linux-arm64, darwin-arm64, win32-x64\)/);
  assert.doesNotMatch(said, /worker crashed|exited \(code/);
});

const host = `${process.platform}-${process.arch}`;
test(`the ${host} VSIX runs the local tier from its own binaries (extracted, real onnxruntime)`, { skip: TARGETS[host] ? false : `no VSIX with a local tier for ${host}` }, () => {
  const ext = extract(vsix(host), host);
  const r = judgeLocal(ext);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.tier, 'local');
  assert.equal(lines[0]!.aligns, false, 'the tiny model votes "not" as contradiction');
});
