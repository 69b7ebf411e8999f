/**
 * Stands in for the VS Code host of the viewer webview (VS Code itself cannot run here): a real
 * HTTP server on 127.0.0.1 serves the very HTML `viewerHtml` builds (CSP included, cspSource =
 * this server's origin), the built bundle and test images; real headless Chromium loads it.
 * `acquireVsCodeApi` is injected before the page's scripts: postMessage goes to node through
 * `exposeFunction`, and getState/setState live in node so a reload restores like VS Code does.
 * The node side answers with protocol messages from an in-memory list of groups.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, viewerHtml } from '../../src/viewer/html';
import {
  EMPTY_STATE,
  isWebviewMessage,
  type GroupDetail,
  type GroupRow,
  type HostMessage,
  type RowFilter,
  type SourceNote,
  type ViewerState,
  type WebviewMessage,
} from '../../src/protocol/viewer';
import type { BadLine } from '../../src/core/schema/record';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist/webview');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json', '.png': 'image/png',
};

/** A few Dark Modern colours, set the way VS Code sets them (CSSOM on <html>, not markup). */
const THEME: Record<string, string> = {
  '--vscode-font-family': 'system-ui, "Segoe UI", Ubuntu, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
  '--vscode-editor-font-size': '12px',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editor-foreground': '#cccccc',
  '--vscode-sideBar-background': '#181818',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-list-activeSelectionBackground': '#04395e',
  '--vscode-list-inactiveSelectionBackground': '#37373d',
  '--vscode-input-background': '#313131',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-input-border': '#3c3c3c',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-widget-border': '#313131',
  '--vscode-textLink-foreground': '#4daafc',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-green': '#89d185',
};

export interface HostData {
  groups: GroupRow[];
  details: Record<string, GroupDetail>;
  totalCompletions: number;
  badLines?: BadLine[];
  notes?: SourceNote[];
  /** When false the test sends `init` itself (handshake checks). */
  autoInit?: boolean;
  /**
   * Answers messages in place of the in-memory list (a real core model behind the page, as in
   * the live benchmark); returns false for messages it leaves to the harness.
   */
  host?: (m: WebviewMessage, session: ViewerSession) => Promise<boolean>;
}

export interface BrowserProblems {
  csp: string[];
  pageErrors: string[];
  consoleErrors: string[];
}

export class Harness {
  private constructor(readonly origin: string, private readonly server: Server, readonly browser: Browser, private readonly images: Map<string, Buffer>) {}

  static async start(images: Record<string, Buffer>): Promise<Harness> {
    const map = new Map(Object.entries(images));
    let origin = '';
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', origin);
      const send = (status: number, type: string, body: string | Buffer) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (url.pathname === '/') {
        const html = viewerHtml({
          cspSource: origin,
          nonce: makeNonce(),
          scriptUri: `${origin}/dist/webview/viewer.js`,
          codiconsUri: `${origin}/dist/webview/codicons/codicon.css`,
          title: 'Rollouts',
        });
        return send(200, 'text/html; charset=utf-8', html);
      }
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      const image = map.get(url.pathname);
      if (image) return send(200, 'image/png', image);
      if (url.pathname.startsWith('/dist/webview/')) {
        const file = normalize(join(DIST, url.pathname.slice('/dist/webview/'.length)));
        if (!file.startsWith(DIST)) return send(403, 'text/plain', 'no');
        readFile(file).then(
          (body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body),
          () => send(404, 'text/plain', 'not found'),
        );
        return;
      }
      send(404, 'text/plain', 'not found');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    return new Harness(origin, server, browser, map);
  }

  imageUrl(name: string): string {
    if (!this.images.has(`/images/${name}`)) throw new Error(`no test image ${name}`);
    return `${this.origin}/images/${name}`;
  }

  async open(data: HostData, viewport = { width: 1400, height: 900 }): Promise<ViewerSession> {
    const page = await this.browser.newPage({ viewport });
    const session = new ViewerSession(this.origin, page, data);
    await session.install();
    await session.load();
    return session;
  }

  async close(): Promise<void> {
    await this.browser.close();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

export class ViewerSession {
  /** Every message the webview posted, in order. */
  readonly fromWebview: WebviewMessage[] = [];
  /** Messages the webview posted that failed `isWebviewMessage`. */
  readonly malformed: unknown[] = [];
  readonly problems: BrowserProblems = { csp: [], pageErrors: [], consoleErrors: [] };
  /** What setState last stored: survives reloads, like VS Code's webview state. */
  savedState: ViewerState | null = null;
  private filter: RowFilter = { text: '', flags: [] };
  private filtered: GroupRow[];
  private waiters: (() => void)[] = [];
  private stateScript: { dispose(): Promise<void> } | null = null;

  constructor(private readonly origin: string, readonly page: Page, readonly data: HostData) {
    this.filtered = data.groups;
  }

  async install(): Promise<void> {
    const p = this.page;
    p.on('pageerror', (e) => this.problems.pageErrors.push(String(e)));
    p.on('console', (m) => {
      if (m.type() === 'error') this.problems.consoleErrors.push(m.text());
    });
    await p.exposeFunction('__harnessPost', (m: unknown) => this.onWebviewMessage(m));
    await p.exposeFunction('__harnessSetState', (s: ViewerState) => {
      this.savedState = s;
    });
    await p.exposeFunction('__harnessCsp', (v: string) => this.problems.csp.push(v));
    // tsx compiles with keepNames, so functions we hand to the page call esbuild's `__name`.
    await p.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await p.addInitScript((theme: Record<string, string>) => {
      const w = window as unknown as Record<string, unknown>;
      let acquired = false;
      let state: unknown = w.__harnessState ?? null;
      const post = w.__harnessPost as (m: unknown) => void;
      const save = w.__harnessSetState as (s: unknown) => void;
      w.acquireVsCodeApi = () => {
        if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
        acquired = true;
        return {
          postMessage: (m: unknown) => post(m),
          getState: () => (state === null ? (w.__harnessState ?? null) : state),
          setState: (s: unknown) => {
            state = s;
            save(s);
          },
        };
      };
      document.addEventListener('securitypolicyviolation', (e) => {
        (w.__harnessCsp as (v: string) => void)(`${e.violatedDirective} ${e.blockedURI}`);
      });
      const paint = () => {
        for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v);
        document.body?.classList.add('vscode-dark');
      };
      document.addEventListener('DOMContentLoaded', paint);
    }, THEME);
  }

  /** (Re)loads the page with the state node holds, as VS Code restores a webview. */
  async load(): Promise<void> {
    await this.stateScript?.dispose();
    this.stateScript = await this.page.addInitScript((s) => {
      (window as unknown as Record<string, unknown>).__harnessState = s;
    }, this.savedState);
    this.filter = { text: '', flags: [] };
    this.filtered = this.data.groups;
    await this.page.goto(`${this.origin}/`);
  }

  async reload(): Promise<void> {
    this.fromWebview.length = 0;
    await this.load();
  }

  async send(m: HostMessage): Promise<void> {
    await this.page.evaluate((msg) => window.postMessage(msg, '*'), m);
  }

  sendInit(state: ViewerState): Promise<void> {
    if (state.filter.text || state.filter.flags.length) this.applyFilter(state.filter);
    return this.send({
      type: 'init',
      source: { title: 'rollouts.jsonl', files: ['/runs/demo/rollouts.jsonl'], format: 'native', stepsInferred: false },
      totalGroups: this.data.groups.length,
      totalCompletions: this.data.totalCompletions,
      badLines: this.data.badLines ?? [],
      badLineCount: this.data.badLines?.length ?? 0,
      notes: this.data.notes ?? [],
      noteCount: this.data.notes?.length ?? 0,
      live: { mode: 'watch', loading: false, bytesRead: 0, bytesTotal: 0, problem: null },
      filterReading: { kind: state.filter.text ? 'words' : 'none', message: null, column: null },
      settings: { boxFrame: 'auto', variant: 'seed', matching: 'seed' },
      state,
    });
  }

  /** Waits until a posted message satisfies `pred`; returns it. */
  async waitFor<T extends WebviewMessage>(pred: (m: WebviewMessage) => m is T, timeoutMs?: number): Promise<T>;
  async waitFor(pred: (m: WebviewMessage) => boolean, timeoutMs?: number): Promise<WebviewMessage>;
  async waitFor(pred: (m: WebviewMessage) => boolean, timeoutMs = 5000): Promise<WebviewMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.fromWebview.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.fromWebview.map((m) => m.type))}`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.page.close();
  }

  private onWebviewMessage(m: unknown): void {
    if (!isWebviewMessage(m)) {
      this.malformed.push(m);
      return;
    }
    this.fromWebview.push(m);
    for (const w of this.waiters.splice(0)) w();
    this.answer(m).catch((e: unknown) => {
      // A reply racing a reload or close has nowhere to go; anything else is a harness bug.
      if (!/context was destroyed|closed/i.test(String(e))) throw e;
    });
  }

  private async answer(m: WebviewMessage): Promise<void> {
    if (this.data.host && (await this.data.host(m, this))) return;
    switch (m.type) {
      case 'ready':
        if (this.data.autoInit !== false) await this.sendInit(m.state ?? EMPTY_STATE);
        return;
      case 'requestRows': {
        const rows = this.filtered.slice(m.start, m.start + m.count).map((r, i) => ({ ...r, ordinal: m.start + i }));
        return this.send({ type: 'rows', requestId: m.requestId, start: m.start, total: this.filtered.length, rows });
      }
      case 'selectGroup': {
        const detail = this.data.details[m.key];
        if (detail) await this.send({ type: 'groupDetail', detail });
        return;
      }
      case 'setFilter':
        this.applyFilter(m.filter);
        return this.send({ type: 'listChanged', total: this.filtered.length, grown: false });
      default:
        return;
    }
  }

  private applyFilter(f: RowFilter): void {
    this.filter = f;
    const text = f.text.toLowerCase();
    this.filtered = this.data.groups.filter(
      (g) => (text === '' || g.promptSnippet.toLowerCase().includes(text) || g.key.includes(text)) && f.flags.every((fl) => g.flags.includes(fl)),
    );
  }
}
