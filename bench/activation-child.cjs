// One activation of the extension bundle in a fresh node process, against a stand-in `vscode`
// module whose every API is a no-op: what our own code costs before first use (bundle
// evaluation + activate()), and which modules outside the bundle it pulls in. Prints one JSON line.
'use strict';
const Module = require('node:module');
const bundle = process.argv[2];

const fn = () => new Proxy(function stub() {}, {
  get: (_t, p) => (p === 'then' ? undefined : fn()),
  apply: () => fn(),
  construct: () => fn(),
  set: () => true,
  defineProperty: () => true,
});
const NAMESPACES = ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'Uri', 'EventEmitter', 'ThemeIcon', 'ThemeColor', 'TreeItem', 'Disposable', 'ProgressLocation', 'StatusBarAlignment', 'ViewColumn', 'TreeItemCollapsibleState', 'FileType', 'ConfigurationTarget', 'CodeLens', 'Range', 'Position', 'RelativePattern', 'MarkdownString', 'l10n', 'Location', 'Diagnostic', 'DiagnosticSeverity', 'TerminalExitReason', 'CancellationTokenSource', 'LogLevel'];
// Commands registered: activate() ran to its end only if every contributed command is among them.
const registered = new Set();
const commands = new Proxy({ registerCommand: (id) => (registered.add(id), fn()) }, {
  get: (t, p) => (p in t ? t[p] : fn()),
});
const vscode = new Proxy({}, {
  get: (_t, p) => (p === 'then' ? undefined : p === 'commands' ? commands : fn()),
  ownKeys: () => NAMESPACES,
  getOwnPropertyDescriptor: (_t, p) => ({ configurable: true, enumerable: true, writable: true, value: p === 'commands' ? commands : fn() }),
  has: () => true,
});

const required = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'vscode') return vscode;
  if (!request.startsWith('node:') && !Module.isBuiltin(request) && request !== bundle) required.add(request);
  return load.call(this, request, parent, isMain);
};

const t0 = performance.now();
const ext = require(bundle);
const t1 = performance.now();
Promise.resolve()
  .then(() => ext.activate(fn()))
  .then(
    () => ({ ok: true }),
    (e) => ({ ok: false, error: String(e && e.message) }),
  )
  .then((r) => {
    const t2 = performance.now();
    process.stdout.write(JSON.stringify({ ...r, loadMs: t1 - t0, activateMs: t2 - t1, required: [...required], registered: [...registered] }) + '\n');
    process.exit(0);
  });
