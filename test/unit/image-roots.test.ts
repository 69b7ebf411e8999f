/**
 * Image paths from a rollout are served only when their real path (symlinks followed) lies in an
 * allowed root (issue 13): real files and real symlinks in a temp folder. The resolver's only
 * vscode use, `webview.asWebviewUri`, is faked as the identity (no VS Code in a unit test); the
 * same case runs through the real webview in test/vscode/hardening.e2e.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type * as vscode from 'vscode';
import { createImageResolver, servable, realPaths } from '../../src/viewer/imageResolver';

let dir = '';
let ws = '';
let outside = '';
let file = '';

function png(path: string, w = 3, h = 2): void {
  const p = new PNG({ width: w, height: h });
  p.data.fill(255);
  writeFileSync(path, PNG.sync.write(p));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-roots-'));
  ws = join(dir, 'ws');
  outside = join(dir, 'outside');
  mkdirSync(join(ws, 'images'), { recursive: true });
  mkdirSync(join(outside, 'pics'), { recursive: true });
  png(join(ws, 'images', 'ok.png'));
  png(join(outside, 'secret.png'), 7, 5);
  png(join(outside, 'pics', 'a.png'));
  writeFileSync(join(ws, 'notes.txt'), 'not an image');
  file = join(ws, 'run.rollouts.jsonl');
  writeFileSync(file, '');
  symlinkSync(join(outside, 'secret.png'), join(ws, 'images', 'x.png'));       // file link leaving the workspace
  symlinkSync('/etc/passwd', join(ws, 'images', 'passwd.png'));                 // the case
  symlinkSync(join(outside, 'pics'), join(ws, 'linked'));                       // a folder link leaving it
  symlinkSync(join(ws, 'images', 'ok.png'), join(ws, 'images', 'alias.png'));   // a link staying inside
  symlinkSync(join(ws, 'notes.txt'), join(ws, 'images', 'notes.png'));          // inside, but not an image
  symlinkSync(ws, join(dir, 'ws-link'));                                        // a root reached through a link
});
after(() => rmSync(dir, { recursive: true, force: true }));

const fakeWebview = { asWebviewUri: (u: vscode.Uri) => u } as unknown as vscode.Webview;
const toUri = (p: string) => ({ toString: () => `file://${p}` }) as unknown as vscode.Uri;

test('symlinks that leave every root are refused, links inside are served (real symlinks; webview URI mapping faked)', async () => {
  const resolve = createImageResolver(fakeWebview, toUri, { searchRoots: [ws] });
  const served = async (p: string) => (await resolve(p, file)).src;
  assert.equal(await served('images/ok.png'), `file://${join(ws, 'images', 'ok.png')}`);
  assert.equal(await served('images/alias.png'), `file://${join(ws, 'images', 'alias.png')}`);
  for (const p of ['images/x.png', 'images/passwd.png', 'linked/a.png', 'images/notes.png', '../outside/secret.png', join(outside, 'secret.png')]) {
    const got = await resolve(p, file);
    assert.equal(got.src, null, `${p} must not be served`);
    assert.equal(got.width, null, `${p}: nothing read from it`);
    assert.ok(got.tried.length > 0, `${p}: the places tried are listed`);
  }
  // The same file through a root named by its link: allowed (real path of the root).
  const viaLink = createImageResolver(fakeWebview, toUri, { searchRoots: [] });
  const got = await viaLink('images/ok.png', join(dir, 'ws-link', 'run.rollouts.jsonl'));
  assert.equal(got.src, `file://${join(dir, 'ws-link', 'images', 'ok.png')}`);
  assert.deepEqual([got.width, got.height], [3, 2]);
});

test('an image root configured outside the workspace admits links into it (grpoStudio.imageRoots)', async () => {
  const resolve = createImageResolver(fakeWebview, toUri, { searchRoots: [ws, outside] });
  const x = await resolve('images/x.png', file);
  assert.ok(x.src, 'x.png → outside/secret.png is inside a configured root');
  assert.deepEqual([x.width, x.height], [7, 5]);
  assert.equal((await resolve('images/passwd.png', file)).src, null, '/etc/passwd is in no root');
});

test('servable: real path inside a real root, regular image files only', async () => {
  const roots = await realPaths([ws, join(dir, 'missing')]);
  assert.deepEqual(roots, [ws]);
  assert.equal(await servable(join(ws, 'images', 'ok.png'), roots), join(ws, 'images', 'ok.png'));
  assert.equal(await servable(join(ws, 'images', 'alias.png'), roots), join(ws, 'images', 'ok.png'));
  assert.equal(await servable(join(ws, 'images', 'x.png'), roots), null);
  assert.equal(await servable(join(ws, 'linked', 'a.png'), roots), null);
  assert.equal(await servable(join(ws, 'images'), roots), null, 'a folder');
  assert.equal(await servable(join(ws, 'images', 'gone.png'), roots), null, 'missing');
});
