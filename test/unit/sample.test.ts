import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { SEED_MAX_PIXELS, SEED_MIN_PIXELS, smartResize } from '../../src/core/boxes/resize';
import { scoreRecord } from '../../src/core/rewards/variants';
import { completionText, parseRecordLine, type RolloutRecord } from '../../src/core/schema/record';
import { generateSample, MISLOGGED, SAMPLE_FILE } from '../../scripts/sample/generate';
import { BAD_INPUT_EXPECTED, LONG_LINE_BYTES, writeBadRollouts } from '../fixtures/bad-input';
import { HOSTILE_PAYLOADS, PAYLOAD_JS_URL, PAYLOAD_TRAVERSAL, writeHostileRollouts } from '../fixtures/hostile';

const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'grpo-sample-'));
  temps.push(d);
  return d;
};
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(root, p) : [relative(root, p)];
  }).sort();
}

function readRecords(file: string): RolloutRecord[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the sample ends with a newline');
  return lines.map((line, i) => {
    const r = parseRecordLine(line);
    assert.ok(r.ok, `line ${i + 1}: ${r.ok ? '' : r.error}`);
    return r.record;
  });
}

const seedBoxesIn = (text: string): { label: string; box: number[] }[] =>
  [...text.matchAll(/\[(\d+),(\d+),(\d+),(\d+)\s+([^[\]]+?)\]/g)].map((m) => ({ label: m[5]!, box: [1, 2, 3, 4].map((i) => Number(m[i])) }));

describe('bundled sample', () => {
  let dir = '';
  let records: RolloutRecord[] = [];
  before(() => {
    dir = tempDir();
    generateSample(dir);
    records = readRecords(join(dir, SAMPLE_FILE));
  });

  test('is byte-for-byte the same on a second run', () => {
    const other = tempDir();
    generateSample(other);
    const files = listFiles(dir);
    assert.deepEqual(listFiles(other), files);
    assert.ok(files.length >= 12, `expected images, generated images, rollouts and README, got ${files.join(', ')}`);
    for (const f of files) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(other, f))), `${f} differs between runs`);
  });

  test('has 12 groups of 4 over steps 10–40 of run aokvqa-bbox', () => {
    assert.equal(records.length, 48);
    assert.ok(records.every((r) => r.run === 'aokvqa-bbox'));
    const groups = new Map<string, RolloutRecord[]>();
    for (const r of records) groups.set(r.group!, [...(groups.get(r.group!) ?? []), r]);
    assert.equal(groups.size, 12);
    for (const [g, rs] of groups) {
      assert.deepEqual(rs.map((r) => r.index), [0, 1, 2, 3], g);
      assert.equal(g.split('/')[0], String(rs[0]!.step));
    }
    for (const step of [10, 20, 30, 40]) assert.ok(new Set(records.filter((r) => r.step === step).map((r) => r.group)).size > 1, `step ${step}`);
  });

  test('every image decodes and its size equals image_size; generated images exist', () => {
    for (const r of records) {
      assert.equal(r.prompt?.images?.length, 1);
      const png = PNG.sync.read(readFileSync(join(dir, r.prompt!.images![0]!)));
      assert.deepEqual([png.width, png.height], r.image_size);
    }
    const sizes = new Set(records.map((r) => r.image_size!.join('x')));
    assert.deepEqual([...sizes].sort(), ['1000x750', '300x200', '640x480']);
    const segmented = records.filter((r) => Array.isArray(r.completion));
    assert.equal(segmented.length, 1);
    const paths = (segmented[0]!.completion as { type: string; path?: string }[]).filter((s) => s.type === 'image').map((s) => s.path!);
    assert.ok(paths.includes('generated/step30-g2-c1-0.png'));
    for (const p of paths) assert.equal(PNG.sync.read(readFileSync(join(dir, p))).width, 160);
  });

  test('every gold box lies inside its image, and the solution names the same boxes', () => {
    for (const r of records) {
      const [W, H] = r.image_size!;
      assert.ok(r.gt_boxes!.length >= 3);
      for (const { box: [x1, y1, x2, y2] } of r.gt_boxes!) {
        assert.ok(x1 >= 0 && y1 >= 0 && x2 <= W && y2 <= H && x1 < x2 && y1 < y2, `${r.group}: ${[x1, y1, x2, y2]} outside ${W}x${H}`);
      }
      assert.deepEqual(seedBoxesIn(r.solution!), r.gt_boxes!.map((g) => ({ label: g.label, box: g.box })));
    }
  });

  test('resized-frame JSON boxes map back (x·W/W_resized) to within 1 px of the true boxes', () => {
    // Hand-computed smart_resize (min 3136, max 3686400): 300x200 -> 308x196, 1000x750 -> 1008x756, 640x480 -> 644x476.
    assert.deepEqual(smartResize(200, 300, SEED_MIN_PIXELS, SEED_MAX_PIXELS), [196, 308]);
    assert.deepEqual(smartResize(750, 1000, SEED_MIN_PIXELS, SEED_MAX_PIXELS), [756, 1008]);
    const resized = records.filter((r) => r.box_frame === 'resized');
    assert.ok(resized.length >= 8);
    let checked = 0;
    for (const r of resized) {
      const [W, H] = r.image_size!;
      const [rh, rw] = smartResize(H, W, SEED_MIN_PIXELS, SEED_MAX_PIXELS);
      const fence = /```json\n([\s\S]*?)\n```/.exec(completionText(r));
      assert.ok(fence, `${r.group}/${r.index} has a json fence`);
      const items = JSON.parse(fence[1]!) as { bbox_2d: number[]; label: string }[];
      for (const it of items) {
        const gold = r.gt_boxes!.find((g) => g.label === it.label);
        assert.ok(gold, it.label);
        const back = [it.bbox_2d[0]! * (W / rw), it.bbox_2d[1]! * (H / rh), it.bbox_2d[2]! * (W / rw), it.bbox_2d[3]! * (H / rh)];
        back.forEach((v, i) => assert.ok(Math.abs(v - gold.box[i]!) <= 1, `${r.group}/${r.index} ${it.label}[${i}]: ${v} vs ${gold.box[i]}`));
        checked++;
      }
    }
    assert.ok(checked >= 24);
  });

  test('logged rewards are the grounding scorer\'s, except the one deliberate logging bug', () => {
    for (const r of records) {
      const s = scoreRecord(r, 'grounding');
      assert.equal(r.rewards!.accuracy, s.rewards.accuracy);
      assert.equal(r.rewards!.format, s.rewards.format);
      assert.equal(r.reward, s.reward);
      const bugged = r.group === MISLOGGED.group && r.index === MISLOGGED.index;
      if (bugged) assert.ok(Math.abs(r.rewards!.bbox! - s.rewards.bbox!) > 0.2, 'the mis-logged bbox must visibly disagree');
      else assert.equal(r.rewards!.bbox, s.rewards.bbox, `${r.group}/${r.index}`);
    }
  });

  test('covers the cases the viewer must show', () => {
    const zero = records.filter((r) => r.group === '20/0');
    assert.deepEqual(zero.map((r) => r.reward), [2.5, 2.5, 2.5, 2.5]);
    assert.deepEqual(zero.map((r) => r.advantage), [0, 0, 0, 0]);
    assert.equal(new Set(zero.map((r) => completionText(r))).size, 4, 'zero-variance chains still differ in text');
    const texts = records.map((r) => completionText(r));
    assert.ok(texts.filter((t) => t.startsWith('Sure,')).length >= 3, 'text before <think>');
    assert.ok(texts.filter((t) => t.includes('<answer>') && !t.includes('</answer>')).length >= 2, 'missing </answer>');
    assert.ok(texts.filter((t) => !t.includes('<think>')).length >= 2, 'no tags');
    const contradictions = texts.filter((t) => {
      const said = /so the answer is ([A-D])\./i.exec(t)?.[1];
      const given = /<answer>([A-D])<\/answer>/.exec(t)?.[1];
      return said && given && said !== given;
    });
    assert.ok(contradictions.length >= 4, `answers contradicting their reasoning: ${contradictions.length}`);
    const seedLlama = texts.find((t) => t.includes('<img><img_00012>'));
    assert.ok(seedLlama);
    assert.equal(/<img>((?:<img_\d{5}>)+)<\/img>/.exec(seedLlama)![1]!.match(/<img_\d{5}>/g)!.length, 32);
    assert.ok(records.some((r) => r.rewards!.format === 0 && r.rewards!.accuracy === 1 && r.rewards!.bbox === 1), 'format-only failure');
    assert.ok(records.every((r) => r.meta?.temperature === 1 && typeof r.meta?.rank === 'number'));
  });

  test('README says the sample is generated', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8').trim().split('\n').filter((l) => l.trim());
    assert.ok(readme.length >= 3 && readme.length <= 6, `${readme.length} lines`);
    assert.match(readme.join(' '), /generated/);
  });
});

describe('bad-input fixture', () => {
  test('its expected valid / bad / blank lines match what parseRecordLine says line by line', () => {
    const bytes = readFileSync(writeBadRollouts(tempDir()));
    assert.notEqual(bytes[bytes.length - 1], 0x0a, 'no trailing newline');
    assert.ok(bytes.includes('\r\n'), 'has CRLF line ends');
    const parts: Buffer[] = [];
    for (let start = 0; start <= bytes.length; ) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl === -1 ? bytes.length : nl;
      parts.push(bytes.subarray(start, end));
      start = end + 1;
    }
    const seen = { validLines: [] as number[], badLines: [] as number[], blankLines: [] as number[] };
    const decoder = new TextDecoder('utf-8', { fatal: true });
    parts.forEach((part, i) => {
      let text: string;
      try {
        text = decoder.decode(part);
      } catch {
        seen.badLines.push(i + 1);
        return;
      }
      if (text.trim() === '') seen.blankLines.push(i + 1);
      else if (parseRecordLine(text).ok) seen.validLines.push(i + 1);
      else seen.badLines.push(i + 1);
    });
    assert.deepEqual(seen, BAD_INPUT_EXPECTED);
    assert.ok(parts[9]!.length > LONG_LINE_BYTES, 'line 10 is over 10 MB');
    assert.match(parts[6]!.toString(), /NaN/);
  });
});

describe('hostile fixture', () => {
  test('every line is a valid record and every payload is carried verbatim', () => {
    const dir = tempDir();
    const { file, image, carBox } = writeHostileRollouts(dir);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const strings: string[] = [];
    const collect = (x: unknown): void => {
      if (typeof x === 'string') strings.push(x);
      else if (Array.isArray(x)) x.forEach(collect);
      else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) (strings.push(k), collect(v));
    };
    for (const line of lines) {
      const r = parseRecordLine(line);
      assert.ok(r.ok, r.ok ? '' : r.error);
      collect(r.record);
    }
    for (const p of HOSTILE_PAYLOADS) assert.ok(strings.some((s) => s.includes(p)), `payload missing: ${p}`);
    const images = lines.flatMap((l) => (JSON.parse(l) as { prompt: { images: string[] } }).prompt.images);
    assert.ok(images.includes(PAYLOAD_JS_URL) && images.includes(PAYLOAD_TRAVERSAL));
    const png = PNG.sync.read(readFileSync(image));
    assert.deepEqual([png.width, png.height], [320, 240]);
    assert.ok(carBox[0] >= 0 && carBox[2] <= 320 && carBox[3] <= 240);
  });
});
