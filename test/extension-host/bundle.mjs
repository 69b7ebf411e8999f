// Bundles the extension-host suite (mocha inside, `vscode` external) twice:
// - out/test/host-suite.js: the suite alone, for @vscode/test-electron (`extensionTestsPath`);
// - out/test/grpo-studio-host-suite.vsix: a test-only extension whose activation runs the suite
//   (hostExtension.ts), which the code-server driver installs beside the product's VSIX.
// Neither is part of the product's bundles (scripts/bundles.mjs).
import * as esbuild from 'esbuild';
import { createVSIX } from '@vscode/vsce';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'inline',
  logLevel: 'warning',
  // mocha's parallel mode (never used here) resolves worker files by path.
  logOverride: { 'require-resolve-not-external': 'silent' },
};

const ext = join(root, 'out/test/host-extension');
rmSync(ext, { recursive: true, force: true });
mkdirSync(ext, { recursive: true });
await Promise.all([
  esbuild.build({ ...common, entryPoints: ['test/extension-host/suite.ts'], outfile: 'out/test/host-suite.js' }),
  esbuild.build({ ...common, entryPoints: ['test/extension-host/hostExtension.ts'], outfile: join(ext, 'extension.js') }),
]);

const product = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(ext, 'package.json'), JSON.stringify({
  name: 'grpo-studio-host-suite',
  displayName: 'GRPO Studio host suite (tests only)',
  description: 'Runs the GRPO Studio extension-host tests when GRPO_STUDIO_HOST_RESULTS names a results file.',
  publisher: 'grpo-studio-tests',
  version: product.version,
  license: 'MIT',
  engines: { vscode: product.engines.vscode },
  main: './extension.js',
  files: ['extension.js', 'README.md'],
  activationEvents: ['onStartupFinished'],
}, null, 2));
writeFileSync(join(ext, 'README.md'), '# GRPO Studio host suite\n\nTest-only: runs test/extension-host/suite.ts inside code-server.\n');
const vsix = join(root, 'out/test/grpo-studio-host-suite.vsix');
await createVSIX({ cwd: ext, packagePath: vsix, dependencies: false, allowMissingRepository: true, skipLicense: true });
console.log('bundled out/test/host-suite.js and out/test/grpo-studio-host-suite.vsix');
