/**
 * The import rules of docs/architecture.md, checked on every .ts file under src/ and webview/
 * (test/support/importRules.ts says how). A failure lists each offending import as file:line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { checkImports, coreFolderLoops, formatViolation, importsOf, type Violation } from '../support/importRules';

const ROOT = resolve(import.meta.dirname, '../..');
const all = checkImports(ROOT);

function expectNone(found: Violation[]): void {
  assert.equal(found.length, 0, `\n${found.map(formatViolation).join('\n')}\n`);
}
const inDir = (prefix: string) => (v: Violation): boolean => v.file.startsWith(prefix);

test('src/core imports only src/core, node builtins and npm packages, never vscode', () => {
  expectNone(all.filter(inDir('src/core/')));
});

test('src/protocol imports only src/protocol and src/core, never vscode', () => {
  expectNone(all.filter(inDir('src/protocol/')));
});

test('src/cli imports only src/cli and src/core, never vscode', () => {
  expectNone(all.filter(inDir('src/cli/')));
});

test('webview/ imports only webview/, src/protocol and browser packages; what it bundles uses no node builtin', () => {
  expectNone(all.filter((v) => v.file.startsWith('webview/') || v.rule === 'webview-browser-only'));
});

test('the extension host (the rest of src/) imports src/ but not src/cli, test/, bench/ or webview/', () => {
  expectNone(all.filter((v) => v.rule === 'host-imports'));
});

test('every module in src/ and webview/ is named by a string literal (no require of a computed path)', () => {
  expectNone(all.filter((v) => v.rule === 'literal-specifier'));
});

test('the checker finds each kind of violation, with its line, and nothing in comments or strings', () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-imports-'));
  const put = (rel: string, text: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  try {
    put('src/core/a.ts', [
      "import { b } from './b';",
      "import type * as vscode from 'vscode';",
      "import { x } from '../protocol/p';",
      "// import { y } from '../host';",
      "const text = \"require('../host')\";",
      'export const m = () => import(`../host`);',
      'export const n = (p: string) => require(p);',
    ].join('\n'));
    put('src/core/b.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n");
    put('src/protocol/p.ts', "import type { b } from '../core/b';\nimport { h } from '../host';\nexport const x = 1;\n");
    put('src/cli/main.ts', "import * as vscode from 'vscode';\nimport { x } from '../protocol/p';\n");
    put('src/host.ts', "import * as vscode from 'vscode';\nimport { b } from './core/b';\nexport const h = 1;\n");
    put('src/panel.ts', "import { run } from '../bench/run';\nimport { main } from './cli/main';\n");
    put('bench/run.ts', 'export const run = 1;\n');
    put('webview/main.ts', [
      "import { LitElement } from 'lit';",
      "import { x } from '../src/protocol/p';",
      "import { b } from '../src/core/b';",
      "import { join } from 'node:path';",
      "import { createRequire } from 'node:module';",
      'const r = createRequire(location.href)(String(1));',
    ].join('\n'));
    const got = checkImports(root).map((v) => `${v.file}:${v.line} ${v.rule}`);
    assert.deepEqual(got, [
      'src/cli/main.ts:1 no-vscode',
      'src/cli/main.ts:2 cli-imports',
      'src/core/a.ts:2 no-vscode',
      'src/core/a.ts:3 core-imports',
      'src/core/a.ts:6 core-imports',
      'src/core/a.ts:7 literal-specifier',
      'src/core/b.ts:1 webview-browser-only', // bundled: webview -> core/b, and webview -> protocol -> host -> core/b
      'src/host.ts:1 webview-browser-only', // bundled: webview -> protocol/p -> host
      'src/panel.ts:1 host-imports',
      'src/panel.ts:2 host-imports',
      'src/protocol/p.ts:2 protocol-imports',
      'webview/main.ts:3 webview-imports',
      'webview/main.ts:4 webview-browser-only',
      'webview/main.ts:5 webview-browser-only',
      'webview/main.ts:6 literal-specifier',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('type-only imports are told apart from value imports', () => {
  const refs = importsOf('x.ts', [
    "import type { A } from 'a';",
    "import { type B, type C } from 'b';",
    "import { type D, e } from 'd';",
    "export type { F } from 'f';",
    "export { g } from 'g';",
    "import 'side-effect';",
    "type H = import('h').H;",
  ].join('\n'));
  assert.deepEqual(refs.map((r) => [r.spec, r.typeOnly]), [
    ['a', true], ['b', true], ['d', false], ['f', true], ['g', false], ['side-effect', false], ['h', true],
  ]);
});

test('the folders of src/core import each other without loops', () => {
  const loops = coreFolderLoops(ROOT);
  assert.equal(loops.length, 0, `\n${loops.join('\n')}\n`);
});

test('a loop between core folders is found once, with the import that closes it', () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-loops-'));
  const put = (rel: string, text: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  try {
    put('src/core/ingest/read.ts', "import { keys } from '../rollouts/groups';\nexport const read = keys;\n");
    put('src/core/rollouts/groups.ts', "export const keys = 1;\n");
    put('src/core/schema/record.ts', "export type R = 1;\n");
    assert.deepEqual(coreFolderLoops(root), []);
    put('src/core/rollouts/read.ts', "// the old place\nexport type { R } from '../schema/record';\nexport { read } from '../ingest/read';\n");
    assert.deepEqual(coreFolderLoops(root), ['ingest -> rollouts -> ingest (closed by src/core/rollouts/read.ts:3)']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
