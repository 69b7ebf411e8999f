/**
 * The repository stands on its own: code and docs cite pages under docs/ that exist, links
 * between the docs land on a file and a heading that exist, and nothing cites a design brief
 * or a shared folder that users do not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const SELF = relative(ROOT, import.meta.filename);
const CODE_DIRS = ['src', 'webview', 'test', 'bench', 'scripts'];
const TEXT = /\.(ts|mjs|cjs|js|sh|py|md|json)$/;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : filesUnder(p);
    return TEXT.test(e.name) ? [p] : [];
  });
}

const codeFiles = CODE_DIRS.flatMap((d) => filesUnder(join(ROOT, d)));
const docFiles = [...filesUnder(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')), join(ROOT, 'README.md'), join(ROOT, 'CHANGELOG.md')];

/** Each line of each file matching `re`, as file:line: text. */
function grep(files: string[], re: RegExp): string[] {
  const out: string[] = [];
  for (const f of files) {
    const rel = relative(ROOT, f);
    if (rel === SELF) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (re.test(line)) out.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

test('nothing cites DESIGN.md, a "DESIGN §" section or ../shared/', () => {
  // `../shared/` as prose (the founders' folder), not webview/shared/ imported by the webviews.
  const hits = grep([...codeFiles, ...docFiles], /DESIGN(\.md|\s*§)|\.\.\/shared\//)
    .filter((h) => !/^webview\/[^:]+:\d+: import .* from '\.\.\/shared\/[\w-]+';$/.test(h));
  assert.deepEqual(hits, [], 'cite the docs/ page that states it instead');
});

test('every docs/… page that code cites exists', () => {
  const missing: string[] = [];
  for (const f of codeFiles) {
    if (relative(ROOT, f) === SELF) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\bdocs\/([\w./-]+?\.(?:md|json))/g)) {
        if (!existsSync(join(ROOT, 'docs', m[1]!))) missing.push(`${relative(ROOT, f)}:${i + 1}: docs/${m[1]}`);
      }
    });
  }
  assert.deepEqual(missing, []);
});

test('relative links in README, CHANGELOG and docs/ reach a file, and a #heading in it', () => {
  const broken: string[] = [];
  for (const f of docFiles) {
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? f : resolve(dirname(f), path);
        const where = `${relative(ROOT, f)}:${i + 1}: ${target}`;
        if (!existsSync(file)) broken.push(`${where} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${where} (no such heading)`);
      }
    });
  }
  assert.deepEqual(broken, []);
});

test('heading anchors follow GitHub: "Qwen2.5-VL\'s resize" → qwen25-vls-resize', () => {
  assert.equal(slug("Qwen2.5-VL's resize"), 'qwen25-vls-resize');
  assert.equal(slug('Boxes (bbox)'), 'boxes-bbox');
  assert.equal(slug('Layers and what they may import'), 'layers-and-what-they-may-import');
  assert.equal(slug('`box_frame` values'), 'box_frame-values');
});

test('a repeated heading gets -1, and a # line inside a code fence is no heading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-docs-'));
  try {
    const f = join(dir, 'a.md');
    writeFileSync(f, '# Title\n## Notes\n```sh\n# not a heading\n```\n## Notes\n');
    assert.deepEqual([...anchorsOf(f)], ['title', 'notes', 'notes-1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
