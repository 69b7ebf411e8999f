/**
 * The one HTML shell of every webview (src/panelHtml.ts), for the viewer and a panel bundle:
 * what the CSP allows, what goes in escaped, and that nothing but a custom element name can
 * become the viewer's root tag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNonce, panelHtml, webviewShell } from '../../src/panelHtml';
import { viewerHtml } from '../../src/viewer/html';

const cspOf = (html: string): string[] => {
  const m = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  assert.ok(m, 'the page has a CSP');
  return m[1]!.split('; ');
};

test('the viewer and a panel share one shell: same CSP core, the viewer adds images and fonts', () => {
  const nonce = makeNonce();
  const viewer = viewerHtml({ cspSource: 'https://v.cdn', nonce, scriptUri: 'https://v.cdn/viewer.js', codiconsUri: 'https://v.cdn/codicon.css', title: 'Rollouts' });
  const panel = panelHtml({ cspSource: 'https://v.cdn', nonce, scriptUri: 'https://v.cdn/runs.js', styleUri: 'https://v.cdn/runs.css', title: 'Run Metrics', rootId: 'run-metrics' });
  const core = ["default-src 'none'", `style-src https://v.cdn 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`];
  assert.deepEqual(cspOf(panel), core);
  assert.deepEqual(cspOf(viewer), [core[0], 'img-src https://v.cdn', 'font-src https://v.cdn', core[1], core[2]]);
  assert.match(viewer, /<body>\n<grpo-viewer><\/grpo-viewer>\n<script type="module" nonce="[^"]+" src="https:\/\/v\.cdn\/viewer\.js"><\/script>/);
  assert.match(viewer, /<link rel="stylesheet" href="https:\/\/v\.cdn\/codicon\.css" id="vscode-codicon-stylesheet" nonce=/);
  assert.match(panel, /<main id="run-metrics" data-testid="run-metrics"><\/main>/);
  assert.equal(nonce.length, 24, 'an 18-byte nonce in base64');
  assert.notEqual(makeNonce(), nonce);
});

test('every value is escaped and a root element must be a custom element name', () => {
  const html = webviewShell({
    cspSource: 'Q"><script>', nonce: 'Q"', scriptUri: 'Q"b', styles: [{ href: 'Q"<s>', id: 'Q"d' }], title: '</title><script>', root: { main: 'Q"x' },
  });
  assert.doesNotMatch(html, /Q"|<script>|<s>/, 'no quote or tag from a value survives');
  assert.match(html, /<title>&lt;\/title&gt;&lt;script&gt;<\/title>/);
  assert.match(html, /<main id="Q&quot;x" data-testid="Q&quot;x">/);
  for (const bad of ['div', 'grpo-viewer onload=x', 'Grpo-Viewer', 'script', '-x']) {
    assert.throws(() => webviewShell({ cspSource: 's', nonce: 'n', scriptUri: 'u', styles: [], title: 't', root: { element: bad } }), /not a custom element name/);
  }
});
