/**
 * What the production extension bundle (dist/extension.js, built from scripts/bundles.mjs as
 * `npm run package` builds it) may contain: no test code and no extension-host test hook. The
 * hook lives in a test-only extension (test/extension-host/hostExtension.ts); the same probe run
 * on that extension's bundle finds it, so the probe can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/** Strings only the extension-host test hook has: its variable, the suite's entry, its runner. */
const HOOK_MARKERS = ['GRPO_STUDIO_HOST_RESULTS', 'GRPO_STUDIO_HOST_SUITE', 'runSuite', 'mocha'];

interface Built {
  text: string;
  inputs: string[];
}

async function build(options: esbuild.BuildOptions): Promise<Built> {
  const r = await esbuild.build({ ...options, absWorkingDir: ROOT, write: false, metafile: true, logLevel: 'silent' });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'));
  assert.ok(js, 'the bundle has a .js output');
  return { text: js.text, inputs: Object.keys(r.metafile.inputs) };
}

async function productionExtension(): Promise<esbuild.BuildOptions> {
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts/bundles.mjs')).href)) as { bundles(o: { production: boolean }): esbuild.BuildOptions[] };
  const ext = mod.bundles({ production: true }).find((b) => b.outfile === 'dist/extension.js');
  assert.ok(ext, 'scripts/bundles.mjs builds dist/extension.js');
  return ext;
}

const hookIn = (b: Built): string[] => HOOK_MARKERS.filter((m) => b.text.includes(m));

test('the production extension bundle holds no test code and no extension-host test hook', { timeout: 120_000 }, async () => {
  const b = await build(await productionExtension());
  const fromTests = b.inputs.filter((i) => i.startsWith('test/') || /hostSuite|host-suite/i.test(i));
  assert.deepEqual(fromTests, [], 'inputs of dist/extension.js from test code');
  assert.deepEqual(hookIn(b), [], 'test-hook strings in dist/extension.js');
});

test('the probe finds the hook in the test-only host-suite extension', { timeout: 120_000 }, async () => {
  const b = await build({
    entryPoints: ['test/extension-host/hostExtension.ts'], outfile: 'out/test/probe.js', bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: ['vscode'], minify: true, logOverride: { 'require-resolve-not-external': 'silent' },
  });
  assert.ok(b.inputs.includes('test/extension-host/suite.ts'), 'the suite is bundled in');
  assert.ok(hookIn(b).includes('GRPO_STUDIO_HOST_RESULTS'), `markers found: ${hookIn(b).join(', ')}`);
  assert.ok(hookIn(b).includes('runSuite') || hookIn(b).includes('mocha'), `markers found: ${hookIn(b).join(', ')}`);
});
