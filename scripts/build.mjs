// Builds the three bundles: the extension host (CommonJS, `vscode` external), the CLI (Node),
// and one browser bundle per webview. `--production` minifies; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'onnxruntime-node'] },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', external: ['onnxruntime-node'], banner: { js: '#!/usr/bin/env node' } },
  // The local NLI judge runs in a worker thread, which needs a file of its own beside the bundles.
  { ...common, entryPoints: { 'nli-worker': 'src/core/judge/local/worker.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['onnxruntime-node'] },
  { ...common, entryPoints: { viewer: 'webview/viewer/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' },
  { ...common, entryPoints: { runs: 'webview/runs/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' },
  { ...common, entryPoints: { overview: 'webview/overview/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' },
  { ...common, entryPoints: { alignment: 'webview/alignment/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' },
];

mkdirSync('dist/webview/codicons', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) cpSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/webview/codicons/${f}`);
if (existsSync('media')) cpSync('media', 'dist/media', { recursive: true });

// The local judge's ONNX runtime cannot be bundled (a native addon): the packaged extension
// carries it in dist/node_modules, where dist/nli-worker.js finds it first — its JavaScript and
// the CPU binaries of the platform this runs on only (a VSIX per platform, like `vsce --target`).
if (production) {
  const ort = 'dist/node_modules';
  rmSync(ort, { recursive: true, force: true });
  const js = (src) => !/\.(map|d\.ts|ts)$/.test(src);
  const bin = `bin/napi-v6/${process.platform}/${process.arch}`;
  if (!existsSync(`node_modules/onnxruntime-node/${bin}`)) throw new Error(`onnxruntime-node has no binaries for ${process.platform}/${process.arch}`);
  for (const f of ['package.json', 'LICENSE', 'dist/cjs']) {
    if (existsSync(`node_modules/onnxruntime-common/${f}`)) cpSync(`node_modules/onnxruntime-common/${f}`, `${ort}/onnxruntime-common/${f}`, { recursive: true, filter: js });
  }
  for (const f of ['package.json', 'LICENSE', 'dist', bin]) {
    if (existsSync(`node_modules/onnxruntime-node/${f}`)) cpSync(`node_modules/onnxruntime-node/${f}`, `${ort}/onnxruntime-node/${f}`, { recursive: true, filter: js });
  }
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.filter((b) => existsSync(Array.isArray(b.entryPoints) ? b.entryPoints[0] : Object.values(b.entryPoints)[0])).map((b) => esbuild.build(b)));
}
