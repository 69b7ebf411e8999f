// Builds the bundles of scripts/bundles.mjs (extension host, CLI, judge worker, one per webview)
// into dist/. `--production` minifies; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { bundles } from './bundles.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const builds = bundles({ production });

// A development build leaves source maps in dist/; a production build must not ship them (vsce
// packed them despite .vscodeignore).
if (production && existsSync('dist')) {
  for (const f of readdirSync('dist', { recursive: true })) if (String(f).endsWith('.map')) rmSync(`dist/${f}`);
}

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
