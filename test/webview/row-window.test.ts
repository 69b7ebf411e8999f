/** The list's arithmetic and page cache, and the label layout, without a browser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROW_HEIGHT, RowWindow, scrollTopForVirtual, scrollWindow } from '../../webview/viewer/row-window';
import { placeLabels } from '../../webview/viewer/label-layout';
import type { GroupRow } from '../../src/protocol/viewer';

const row = (ordinal: number, min = 0, max = 1): GroupRow => ({
  key: `k${ordinal}`, ordinal, step: 0, promptSnippet: '', size: 4, rewardMin: min, rewardMax: max, rewardMean: (min + max) / 2, flags: [],
});

test('scrollWindow is 1:1 below the height cap', () => {
  const w = scrollWindow(1000, 480, 240);
  assert.deepEqual(w, { height: 48_000, first: 10, last: 14, offset: 480 });
});

test('scrollWindow past the cap: top, middle and bottom reach rows 0, the middle, and the last', () => {
  const total = 1_000_000; // 48M px of rows, more than the 8M px spacer
  const view = 480;
  assert.equal(scrollWindow(total, 0, view).height, 8_000_000);
  assert.equal(scrollWindow(total, 0, view).first, 0);
  const maxScroll = 8_000_000 - view;
  const end = scrollWindow(total, maxScroll, view);
  assert.equal(end.last, total - 1);
  assert.equal(end.first, total - view / ROW_HEIGHT);
  const mid = scrollWindow(total, maxScroll / 2, view);
  // Halfway through the scroll range is halfway through (total*48 - view) px of rows.
  assert.equal(mid.first, Math.floor((total * ROW_HEIGHT - view) / 2 / ROW_HEIGHT));
  // And the inverse lands back on the same scrollTop.
  assert.ok(Math.abs(scrollTopForVirtual(total, mid.offset, view) - maxScroll / 2) < 1e-6);
  // Rows sit on whole pixels at any scrollTop (fractional offsets repaint every row each frame).
  for (let i = 0; i < 1000; i++) {
    const top = (i * 7919.37) % maxScroll;
    assert.ok(Number.isInteger(scrollWindow(total, top, view).offset), `offset at scrollTop ${top}`);
  }
});

test('RowWindow asks once per missing page, drops stale replies after a reset', () => {
  const sent: [number, number, number][] = [];
  const rows = new RowWindow((id, start, count) => sent.push([id, start, count]), 100);
  rows.reset(1000);
  rows.ensure(150, 320);
  assert.deepEqual(sent, [[1, 100, 100], [2, 200, 100], [3, 300, 100]]);
  rows.ensure(150, 320); // in flight: nothing new
  assert.equal(sent.length, 3);
  assert.equal(rows.accept(1, 100, 1000, [row(100, -1, 2)]), true);
  assert.equal(rows.get(100)?.key, 'k100');
  assert.deepEqual([rows.lo, rows.hi], [-1, 2]);
  rows.reset(500); // the list changed: replies 2 and 3 are for the old one
  assert.equal(rows.accept(2, 200, 1000, [row(200)]), false);
  assert.equal(rows.get(200), undefined);
  assert.equal(rows.total, 500);
  rows.ensure(0, 10);
  assert.deepEqual(sent.at(-1), [4, 0, 100]);
  rows.ensure(600, 700); // beyond the new total
  assert.equal(sent.length, 4);
});

test('placeLabels stacks labels of boxes that share a corner instead of overlapping them', () => {
  const same = { x: 100, top: 200, bottom: 300 };
  const spots = placeLabels([{ text: '#0 dog', ...same }, { text: '#1 dog', ...same }, { text: '#2 dog', ...same }], 1, 600);
  assert.deepEqual(spots[0], { x: 102, y: 196 });
  assert.deepEqual(spots[1], { x: 102, y: 182 });
  assert.deepEqual(spots[2], { x: 102, y: 210 });
  // A box at the top edge puts its label under the box.
  assert.deepEqual(placeLabels([{ text: 'a', x: 0, top: 5, bottom: 50 }], 1, 600)[0], { x: 2, y: 63 });
});

test('RowWindow.refresh keeps showing held rows, asks again for the pages in view, and ignores replies older than a page', () => {
  const sent: [number, number, number][] = [];
  const rows = new RowWindow((id, start, count) => sent.push([id, start, count]), 100);
  rows.reset(300);
  rows.ensure(0, 150);
  rows.accept(1, 0, 300, Array.from({ length: 100 }, (_, i) => row(i)));
  rows.accept(2, 100, 300, Array.from({ length: 100 }, (_, i) => row(100 + i)));
  rows.ensure(0, 150);
  assert.equal(sent.length, 2, 'cached: nothing asked');
  rows.refresh(450);
  assert.equal(rows.total, 450);
  assert.equal(rows.get(5)?.key, 'k5', 'held rows still shown');
  rows.ensure(0, 150);
  assert.deepEqual(sent.slice(2), [[3, 0, 100], [4, 100, 100]], 'the window is asked again');
  rows.accept(3, 0, 450, Array.from({ length: 100 }, (_, i) => ({ ...row(i), size: 5 })));
  assert.equal(rows.get(5)?.size, 5);
  // A reply from before the refresh arriving late does not overwrite newer rows.
  rows.accept(1, 0, 450, Array.from({ length: 100 }, (_, i) => row(i)));
  assert.equal(rows.get(5)?.size, 5);
  rows.ensure(0, 150);
  assert.equal(sent.length, 4, 'fresh pages are not asked again');
});
