// The product's esbuild bundles, one list shared by scripts/build.mjs and the test that checks
// what the production extension bundle contains (test/unit/bundle.test.ts): the extension host
// (CommonJS, `vscode` external), the CLI (Node), the local judge's worker, one browser bundle
// per webview. Test code is never an entry point here: the extension-host suite is its own
// test-only extension (test/extension-host/bundle.mjs).

/** @param {{ production: boolean }} o */
export function bundles({ production }) {
  const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
  const node = { ...common, platform: 'node', format: 'cjs', target: 'node20', external: ['onnxruntime-node'] };
  const browser = { ...common, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' };
  return [
    { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'onnxruntime-node'] },
    { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
    // The local NLI judge runs in a worker thread, which needs a file of its own beside the bundles.
    { ...node, entryPoints: { 'nli-worker': 'src/core/judge/local/worker.ts' }, outdir: 'dist' },
    // The parallel index build scans byte ranges in worker threads (src/core/index/parallel.ts).
    { ...node, entryPoints: { 'index-worker': 'src/core/index/scanWorker.ts' }, outdir: 'dist' },
    // The evaluation matrix is computed in a worker thread too (its paired bootstraps take seconds).
    { ...node, entryPoints: { 'eval-worker': 'src/eval/matrixWorker.ts' }, outdir: 'dist' },
    { ...browser, entryPoints: { viewer: 'webview/viewer/main.ts' } },
    { ...browser, entryPoints: { runs: 'webview/runs/main.ts' } },
    { ...browser, entryPoints: { overview: 'webview/overview/main.ts' } },
    { ...browser, entryPoints: { timeline: 'webview/timeline/main.ts' } },
    { ...browser, entryPoints: { 'compare-runs': 'webview/compare-runs/main.ts' } },
    { ...browser, entryPoints: { compare: 'webview/compare/main.ts' } },
    { ...browser, entryPoints: { alignment: 'webview/alignment/main.ts' } },
    { ...browser, entryPoints: { eval: 'webview/eval/main.ts' } },
  ];
}
