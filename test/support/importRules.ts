/**
 * The layering rules of docs/architecture.md ("Layers and what they may import"), checked on the
 * source text: every static import, `import type`, `export … from`, dynamic `import()`,
 * `require()` and `createRequire(…)(…)` of every .ts file under src/ and webview/, read with the
 * TypeScript parser (so an import in a comment or a string, like the run supervisor's CommonJS
 * text, is not one).
 *
 *   core      src/core/**      node builtins and npm packages; src/core only; never `vscode`
 *   protocol  src/protocol/**  src/protocol and src/core only; never `vscode`
 *   cli       src/cli/**       src/cli and src/core only; never `vscode`
 *   webview   webview/**       webview/ and src/protocol only; npm packages but no node builtins,
 *                              no `vscode`; and every module a webview bundle pulls in by value
 *                              (through the protocol into src/core) imports no node builtin either
 *   host      the rest of src/ (the extension host): src/ outside src/cli, any package; never test/,
 *                              bench/ or webview/ code (it loads the webview bundles by URI)
 *   every layer: a module is named by a string literal, never a computed path (no `require(x)`)
 */
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export type Layer = 'core' | 'protocol' | 'cli' | 'webview' | 'host';

export interface ImportRef {
  /** The module specifier, or null when it is computed. */
  spec: string | null;
  line: number;
  /** Erased by the compiler (`import type`, every named import marked `type`, `export type`). */
  typeOnly: boolean;
  kind: 'import' | 'export' | 'dynamic' | 'require';
}

export interface Violation {
  /** Repository-relative file, 1-based line. */
  file: string;
  line: number;
  rule: string;
  message: string;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export const isBuiltin = (spec: string): boolean => BUILTINS.has(spec) || spec.startsWith('node:');
const isRelative = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../');

export function layerOf(root: string, file: string): Layer | null {
  const rel = relative(root, file).split(sep).join('/');
  if (rel.startsWith('src/core/')) return 'core';
  if (rel.startsWith('src/protocol/')) return 'protocol';
  if (rel.startsWith('src/cli/')) return 'cli';
  if (rel.startsWith('webview/')) return 'webview';
  if (rel.startsWith('src/')) return 'host';
  return null;
}

/** Every import-like reference in one file's text. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const lineOf = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const literal = (e: ts.Node | undefined): string | null =>
    e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : null;
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ spec: literal(n.moduleSpecifier), line: lineOf(n), typeOnly, kind: 'import' });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : null;
      const typeOnly = n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly));
      out.push({ spec: literal(n.moduleSpecifier), line: lineOf(n), typeOnly, kind: 'export' });
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      out.push({ spec: literal(n.moduleReference.expression), line: lineOf(n), typeOnly: n.isTypeOnly, kind: 'require' });
    } else if (ts.isImportTypeNode(n)) {
      // `import('x').T` in a type position: erased, but still a dependency on x.
      const arg = ts.isLiteralTypeNode(n.argument) ? literal(n.argument.literal) : null;
      out.push({ spec: arg, line: lineOf(n), typeOnly: true, kind: 'dynamic' });
    } else if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isCreated = ts.isCallExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'createRequire';
      if (isImport || isRequire || isCreated) {
        out.push({ spec: literal(n.arguments[0]), line: lineOf(n), typeOnly: false, kind: isImport ? 'dynamic' : 'require' });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** The .ts file a relative specifier names, or null (a missing file is the compiler's to report). */
export function resolveRelative(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const tries = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')];
  for (const t of tries) if (existsSync(t) && statSync(t).isFile()) return t;
  return null;
}

export function tsFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFilesUnder(p));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Where a layer's relative imports may lead. */
const MAY_REACH: Record<Layer, Layer[]> = {
  core: ['core'],
  protocol: ['protocol', 'core'],
  cli: ['cli', 'core'],
  webview: ['webview', 'protocol'],
  host: ['host', 'core', 'protocol'],
};

/** Checks every .ts file under `root`/src and `root`/webview; violations in file, line order. */
export function checkImports(root: string): Violation[] {
  const files = [...tsFilesUnder(join(root, 'src')), ...tsFilesUnder(join(root, 'webview'))];
  const cache = new Map<string, ImportRef[]>();
  const refsOf = (f: string): ImportRef[] => {
    let r = cache.get(f);
    if (!r) cache.set(f, (r = importsOf(f, readFileSync(f, 'utf8'))));
    return r;
  };
  const rel = (f: string): string => relative(root, f).split(sep).join('/');
  const out: Violation[] = [];
  const add = (file: string, line: number, rule: string, message: string): void => {
    out.push({ file: rel(file), line, rule, message });
  };

  for (const file of files) {
    const layer = layerOf(root, file);
    if (!layer) continue;
    for (const ref of refsOf(file)) {
      if (ref.spec === null) {
        add(file, ref.line, 'literal-specifier', `${ref.kind} of a computed path: a module is named by a string literal`);
        continue;
      }
      const spec = ref.spec;
      if (spec === 'vscode' || spec.startsWith('vscode/')) {
        if (layer !== 'host') add(file, ref.line, 'no-vscode', `imports '${spec}': only the extension host (src/ outside core, protocol, cli) may`);
        continue;
      }
      if (layer === 'webview' && isBuiltin(spec)) {
        add(file, ref.line, 'webview-browser-only', `imports node builtin '${spec}': webview code runs in a browser`);
        continue;
      }
      if (!isRelative(spec)) continue; // node builtins and npm packages
      const target = resolveRelative(file, spec);
      const allowed = MAY_REACH[layer];
      if (!target) continue;
      const to = layerOf(root, target);
      if (!to || !allowed.includes(to)) {
        add(file, ref.line, `${layer}-imports`, `imports ${rel(target)} (${to ?? 'outside src/ and webview/'}): ${layer} may import only ${allowed.join(', ')}`);
      }
    }
  }

  // What a webview bundle pulls in by value must run in a browser, however it got there.
  const seen = new Set<string>();
  const queue = files.filter((f) => layerOf(root, f) === 'webview');
  const via = new Map<string, string>();
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const ref of refsOf(f)) {
      if (ref.typeOnly || ref.spec === null) continue;
      if (layerOf(root, f) !== 'webview' && (isBuiltin(ref.spec) || ref.spec === 'vscode')) {
        add(f, ref.line, 'webview-browser-only', `imports '${ref.spec}' and is bundled into the webview (reached from ${rel(via.get(f) ?? f)})`);
      }
      if (!isRelative(ref.spec)) continue;
      const target = resolveRelative(f, ref.spec);
      if (target && !seen.has(target)) {
        if (!via.has(target)) via.set(target, via.get(f) ?? f);
        queue.push(target);
      }
    }
  }

  const unique = new Map(out.map((v) => [`${v.file}:${v.line}:${v.rule}`, v]));
  return [...unique.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

export const formatViolation = (v: Violation): string => `${v.file}:${v.line}: [${v.rule}] ${v.message}`;

/**
 * Loops between the folders of src/core (ingest -> rollouts -> ingest …), type-only imports
 * included: each loop once, as the folders in order and the import that closes it.
 */
export function coreFolderLoops(root: string): string[] {
  const coreDir = join(root, 'src', 'core');
  const folderOf = (f: string): string => relative(coreDir, f).split(sep)[0] ?? '';
  const edges = new Map<string, Map<string, string>>(); // from folder -> to folder -> "file:line"
  for (const file of tsFilesUnder(coreDir)) {
    for (const ref of importsOf(file, readFileSync(file, 'utf8'))) {
      if (!ref.spec || !isRelative(ref.spec)) continue;
      const target = resolveRelative(file, ref.spec);
      if (!target || layerOf(root, target) !== 'core') continue;
      const a = folderOf(file);
      const b = folderOf(target);
      if (a === b) continue;
      let m = edges.get(a);
      if (!m) edges.set(a, (m = new Map()));
      if (!m.has(b)) m.set(b, `${relative(root, file).split(sep).join('/')}:${ref.line}`);
    }
  }
  const loops = new Set<string>();
  const walk = (start: string, at: string, path: string[]): void => {
    for (const [next, where] of edges.get(at) ?? []) {
      if (next === start) {
        // Name each loop from its smallest folder, so it is reported once.
        const ring = [...path];
        const i = ring.indexOf([...ring].sort()[0]!);
        const rotated = [...ring.slice(i), ...ring.slice(0, i)];
        if (rotated[0] === start) loops.add(`${[...rotated, start].join(' -> ')} (closed by ${where})`);
      } else if (!path.includes(next)) walk(start, next, [...path, next]);
    }
  };
  for (const f of edges.keys()) walk(f, f, [f]);
  return [...loops].sort();
}
