/**
 * Drives a real VS Code in a browser: code-server (installed by scripts/install-code-server.sh)
 * with our VSIX installed, opened by Debian's chromium through playwright-core (docs/architecture.md, "Tests").
 * `CodeServer` owns the server process tree; `Workbench` is one browser window on one folder.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CODE_SERVER_BIN = join(REPO_ROOT, '.cache/bin/code-server');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
/** The test-only extension that runs test/extension-host/suite.ts (test/extension-host/bundle.mjs). */
export const HOST_SUITE_VSIX = join(REPO_ROOT, 'out/test/grpo-studio-host-suite.vsix');
/** test/extension-host/hostExtension.ts writes the suite's counts to the file this names. */
const HOST_RESULTS_ENV = 'GRPO_STUDIO_HOST_RESULTS';

export interface CodeServerOptions {
  /** The VSIX to install before starting. */
  vsix: string;
  /** Keep workspace trust on (only the trust test wants the prompt). Default off. */
  workspaceTrust?: boolean;
  /** Extra user settings, merged over the test defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server; its extension hosts inherit it. */
  env?: Record<string, string>;
  /**
   * Also install the test-only host-suite extension (HOST_SUITE_VSIX): the first window's
   * extension host runs the extension-host suite and writes its counts to `results`.
   */
  hostSuite?: { results: string };
}

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function ownEnv(dir: string): Record<string, string> {
  return { EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: join(dir, 'data') };
}

export class CodeServer {
  private constructor(
    readonly url: string,
    readonly dir: string,
    private readonly proc: ChildProcess,
    private readonly log: string[],
  ) {}

  /** Installs the VSIX into a fresh extensions dir, then starts code-server on a free loopback port. */
  static async start(o: CodeServerOptions): Promise<CodeServer> {
    if (!existsSync(CODE_SERVER_BIN)) throw new Error(`${CODE_SERVER_BIN} missing: run bash scripts/install-code-server.sh`);
    const dir = mkdtempSync(join(tmpdir(), 'grpo-code-server-'));
    const userData = join(dir, 'user-data');
    const extensions = join(dir, 'extensions');
    mkdirSync(join(userData, 'User'), { recursive: true });
    const settings = {
      'security.workspace.trust.enabled': o.workspaceTrust ?? false,
      'workbench.startupEditor': 'none',
      'chat.disableAIFeatures': true,
      'telemetry.telemetryLevel': 'off',
      'workbench.tips.enabled': false,
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      // Sample folders live inside this repository: no "open the parent repository?" toast.
      'git.openRepositoryInParentFolders': 'never',
      // The empty secondary side bar would take a third of the window in screenshots.
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      ...o.settings,
    };
    writeFileSync(join(userData, 'User/settings.json'), JSON.stringify(settings, null, 2));
    // Own config file too: code-server would otherwise write one under ~/.config.
    const dirs = [`--user-data-dir=${userData}`, `--extensions-dir=${extensions}`, `--config=${join(dir, 'config.yaml')}`];
    const vsixes = o.hostSuite ? [o.vsix, HOST_SUITE_VSIX] : [o.vsix];
    for (const v of vsixes) if (!existsSync(v)) throw new Error(`${v} missing: run npm run package && node test/extension-host/bundle.mjs`);
    const install = vsixes.flatMap((v) => ['--install-extension', v]);
    await run(CODE_SERVER_BIN, [...dirs, ...install], { timeout: 120_000, env: { ...process.env, ...ownEnv(dir) } });
    const env = { ...process.env, ...ownEnv(dir), ...o.env, ...(o.hostSuite ? { [HOST_RESULTS_ENV]: o.hostSuite.results } : {}) };

    const port = await freePort();
    const log: string[] = [];
    // Own process group, so stop() can end the server and every extension host it forked.
    const proc = spawn(
      CODE_SERVER_BIN,
      [...dirs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check'],
      // An empty gallery: nothing in the workbench tries to reach a marketplace host. Its own
      // XDG_DATA_HOME: code-server keeps logs and a heartbeat there, not in --user-data-dir.
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    const keep = (b: Buffer) => {
      log.push(b.toString());
      if (log.length > 400) log.splice(0, 200);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const server = new CodeServer(`http://127.0.0.1:${port}`, dir, proc, log);
    try {
      await waitUntil('code-server /healthz', async () => {
        if (proc.exitCode !== null) throw new Error(`code-server exited ${proc.exitCode}:\n${log.join('')}`);
        const res = await fetch(`${server.url}/healthz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      }, 60_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  output(): string {
    return this.log.join('');
  }

  /** Ends the whole process group (server, extension hosts, pty host), then removes its dirs. */
  async stop(): Promise<void> {
    const pid = this.proc.pid;
    if (pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    // Children that outlived the leader still hold the group id.
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* none left */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every frame records CSP violations it sees; read back by Workbench.cspViolations(). */
const CSP_LISTENER = `(() => {
  const w = window;
  if (w.__grpoCsp) return;
  w.__grpoCsp = [];
  const record = (e) => w.__grpoCsp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
  w.addEventListener('securitypolicyviolation', record, true);
  document.addEventListener('securitypolicyviolation', record, true);
})()`;

export class Workbench {
  readonly consoleErrors: string[] = [];
  readonly dialogs: string[] = [];
  private readonly cspMessages: string[] = [];

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  /** Launches chromium and opens `folder` in the workbench; resolves once the workbench shows. */
  static async open(server: CodeServer, folder: string): Promise<Workbench> {
    if (!existsSync(CHROMIUM_BIN)) throw new Error(`${CHROMIUM_BIN} missing: apt-get install chromium`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const wb = new Workbench(browser, page);
    page.on('console', (m) => {
      const text = m.text();
      if (/Content Security Policy/i.test(text)) wb.cspMessages.push(text);
      if (m.type() === 'error') wb.consoleErrors.push(text);
    });
    page.on('pageerror', (e) => wb.consoleErrors.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      wb.dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss().catch(() => undefined);
    });
    await page.addInitScript(CSP_LISTENER);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The explorer shows the folder once the remote file system answers.
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
    return wb;
  }

  /** Runs a palette command by its title: F1, type, wait for the entry, Enter. */
  async runCommand(title: string): Promise<void> {
    await this.pick(`>${title}`, title);
  }

  /**
   * Runs a palette command that asks at once in the same quick input (an input box, found by
   * `inputSelector`), and answers it. Tries three times, as `pick` does.
   */
  async runCommandAndAnswer(title: string, inputSelector: string, answer: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    const box = this.page.locator(inputSelector);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${title}`);
        await this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
        await this.page.keyboard.press('Enter');
        await box.waitFor({ state: 'visible', timeout: 15_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await this.page.keyboard.press('Escape');
      }
    }
    await box.fill(answer);
    await this.page.keyboard.press('Enter');
    await box.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /**
   * In a multi-select quick pick that is showing, ticks the rows whose label is each of `labels`
   * and clicks OK (not Enter: Enter on the focused checkbox would untick it).
   */
  async tickAndAccept(labels: readonly string[]): Promise<void> {
    for (const label of labels) {
      const row = this.page.locator(`.quick-input-list .monaco-list-row[aria-label^="${label},"]`);
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await waitUntil(`${label} ticked`, async () => {
        if ((await row.getAttribute('aria-checked')) === 'true') return true;
        await row.locator('.monaco-checkbox').click();
        await new Promise((r) => setTimeout(r, 300));
        return (await row.getAttribute('aria-checked')) === 'true' ? true : undefined;
      }, 10_000, 100);
    }
    await this.page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).first().click();
  }

  /** Opens a workspace file with its default editor through Quick Open. */
  async openFile(relativePath: string): Promise<void> {
    await this.pick(relativePath, relativePath.split('/').pop() ?? relativePath);
  }

  /**
   * Types `query` into the quick input and accepts the row showing `rowText`. Tries three times:
   * on a loaded machine the first F1 can land before the workbench takes keyboard focus.
   */
  private async pick(query: string, rowText: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(query);
        await row.waitFor({ state: 'visible', timeout: 15_000 });
        await this.page.keyboard.press('Enter');
        await input.waitFor({ state: 'hidden', timeout: 10_000 });
        return;
      } catch (err) {
        if (attempt === 3) throw err;
        await this.page.keyboard.press('Escape');
        await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
      }
    }
  }

  /**
   * The webview's inner frame (two iframes below the page) for which `matches` holds; by default
   * the one holding `<grpo-viewer>`. Installs the CSP listener there too, for late violations.
   */
  async webviewFrame(matches: (f: Frame) => Promise<boolean> = hasViewer, timeoutMs = 30_000): Promise<Frame> {
    const frame = await waitUntil('the viewer webview frame', async () => {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame() || f.isDetached()) continue;
        if (await matches(f).catch(() => false)) return f;
      }
      return undefined;
    }, timeoutMs, 250);
    await frame.evaluate(CSP_LISTENER).catch(() => undefined);
    return frame;
  }

  /** CSP violations: console reports plus `securitypolicyviolation` events from every frame. */
  async cspViolations(): Promise<string[]> {
    const seen = [...this.cspMessages];
    for (const f of this.page.frames()) {
      if (f.isDetached()) continue;
      const got = await f.evaluate('window.__grpoCsp || []').catch(() => []);
      if (Array.isArray(got)) seen.push(...got.map(String));
    }
    return seen;
  }

  /** Evaluates `expression` in every frame (page, workbench iframes, webviews). */
  async inEveryFrame(expression: string): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const f of this.page.frames()) {
      if (f.isDetached()) continue;
      out.push(await f.evaluate(expression).catch((e: unknown) => `error: ${String(e)}`));
    }
    return out;
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const path = join(RESULTS_DIR, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

async function hasViewer(f: Frame): Promise<boolean> {
  return (await f.locator('grpo-viewer').count()) > 0;
}
