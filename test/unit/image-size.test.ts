import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { imageSizeFromHeader, readImageSize } from '../../src/core/images/size';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grpo-image-size-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

/** SOI, a JFIF APP0, a DHT (C4, inside the SOF range but not a SOF), fill bytes, then `sof` for 640x480. */
function jpegHeader(sof: number, extra: number[] = []): Uint8Array {
  return bytes(
    [0xff, 0xd8],
    [0xff, 0xe0, 0x00, 0x10], 'JFIF', [0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00],
    [0xff, 0xc4, 0x00, 0x07, 0x00, 0x09, 0x99, 0x07, 0x77],
    extra,
    [0xff, 0xff, 0xff, sof, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01],
    [0xff, 0xda, 0x00, 0x02],
  );
}

test('PNG written by pngjs: width and height from IHDR, via the file and via the bytes', async () => {
  const png = new PNG({ width: 37, height: 23 });
  const data = PNG.sync.write(png);
  const path = join(dir, 'a.png');
  await writeFile(path, data);
  assert.deepEqual(await readImageSize(path), { width: 37, height: 23, type: 'png' });
  assert.deepEqual(imageSizeFromHeader(data.subarray(0, 24)), { width: 37, height: 23, type: 'png' });
  assert.equal(imageSizeFromHeader(data.subarray(0, 20)), null); // cut inside IHDR
});

test('JPEG: walks past APP0 and DHT (C4) and fill bytes to SOF0', async () => {
  const jpg = jpegHeader(0xc0);
  assert.deepEqual(imageSizeFromHeader(jpg), { width: 640, height: 480, type: 'jpeg' });
  const path = join(dir, 'a.jpg');
  await writeFile(path, jpg);
  assert.deepEqual(await readImageSize(path), { width: 640, height: 480, type: 'jpeg' });
});

test('JPEG: progressive SOF2 after a DAC (CC) segment; JPG (C8) is skipped too', () => {
  const dac = [0xff, 0xcc, 0x00, 0x04, 0x10, 0x20];
  const jpgExt = [0xff, 0xc8, 0x00, 0x04, 0x30, 0x40];
  assert.deepEqual(imageSizeFromHeader(jpegHeader(0xc2, [...dac, ...jpgExt])), { width: 640, height: 480, type: 'jpeg' });
});

test('JPEG: scan data before any SOF, or a cut header, gives null', () => {
  assert.equal(imageSizeFromHeader(bytes([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02])), null);
  assert.equal(imageSizeFromHeader(jpegHeader(0xc0).subarray(0, 30)), null);
});

test('JPEG whose SOF lies past the first 64 KiB: the reader grows to 512 KiB', async () => {
  // Two maximal APP1 segments (65535 bytes each) push SOF to offset ~131 KiB.
  const app1 = [0xff, 0xe1, 0xff, 0xff, ...new Array<number>(65533).fill(0)];
  const jpg = jpegHeader(0xc0, [...app1, ...app1]);
  assert.ok(jpg.length > 128 * 1024);
  assert.equal(imageSizeFromHeader(jpg.subarray(0, 64 * 1024)), null);
  const path = join(dir, 'big-exif.jpg');
  await writeFile(path, jpg);
  assert.deepEqual(await readImageSize(path), { width: 640, height: 480, type: 'jpeg' });
});

test('GIF87a / GIF89a: little-endian logical screen size', () => {
  assert.deepEqual(imageSizeFromHeader(bytes('GIF89a', [0x40, 0x01, 0xf0, 0x00])), { width: 320, height: 240, type: 'gif' });
  assert.deepEqual(imageSizeFromHeader(bytes('GIF87a', [0x01, 0x00, 0x02, 0x00])), { width: 1, height: 2, type: 'gif' });
});

const riff = (chunk: string, body: number[]): Uint8Array => bytes('RIFF', [0, 0, 0, 0], 'WEBP', chunk, [0, 0, 0, 0], body);

test('WebP lossy (VP8 ): 14-bit sizes after the 9d 01 2a start code', () => {
  // 400 = 0x0190, 300 = 0x012c
  const webp = riff('VP8 ', [0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x90, 0x01, 0x2c, 0x01]);
  assert.deepEqual(imageSizeFromHeader(webp), { width: 400, height: 300, type: 'webp' });
});

test('WebP lossless (VP8L): width-1 and height-1 packed in 14-bit fields', () => {
  // 299 | 199 << 14 = 0x0031c12b
  const webp = riff('VP8L', [0x2f, 0x2b, 0xc1, 0x31, 0x00]);
  assert.deepEqual(imageSizeFromHeader(webp), { width: 300, height: 200, type: 'webp' });
});

test('WebP extended (VP8X): 24-bit canvas width-1 and height-1, read from a file', async () => {
  // 1919 = 0x00077f, 1079 = 0x000437
  const webp = riff('VP8X', [0x10, 0, 0, 0, 0x7f, 0x07, 0x00, 0x37, 0x04, 0x00]);
  assert.deepEqual(imageSizeFromHeader(webp), { width: 1920, height: 1080, type: 'webp' });
  const path = join(dir, 'a.webp');
  await writeFile(path, webp);
  assert.deepEqual(await readImageSize(path), { width: 1920, height: 1080, type: 'webp' });
});

test('unknown or empty data is null; a missing file rejects', async () => {
  assert.equal(imageSizeFromHeader(new Uint8Array()), null);
  assert.equal(imageSizeFromHeader(bytes('hello world, not an image')), null);
  assert.equal(imageSizeFromHeader(riff('ALPH', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), null);
  const path = join(dir, 'text.txt');
  await writeFile(path, 'plain text');
  assert.equal(await readImageSize(path), null);
  await assert.rejects(readImageSize(join(dir, 'missing.png')), { code: 'ENOENT' });
});
