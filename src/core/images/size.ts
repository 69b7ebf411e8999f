/**
 * Image dimensions from the file header alone, so the viewer can map boxes without decoding
 * (or even fully reading) images that may be many megabytes each.
 */
import { open } from 'node:fs/promises';

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp';

export interface ImageHeaderSize {
  width: number;
  height: number;
  type: ImageType;
}

/** A JPEG whose SOF lies beyond the bytes we have: read more and try again. */
const NEED_MORE = 'need-more';

const FIRST_READ = 64 * 1024;
/** EXIF thumbnails and ICC profiles can push a JPEG's SOF well past the first 64 KiB. */
const JPEG_MAX_READ = 512 * 1024;

function ascii(bytes: Uint8Array, at: number, len: number): string {
  return at + len <= bytes.length ? String.fromCharCode(...bytes.subarray(at, at + len)) : '';
}

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const le24 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

function sized(width: number, height: number, type: ImageType): ImageHeaderSize | null {
  return width > 0 && height > 0 ? { width, height, type } : null;
}

function png(b: Uint8Array): ImageHeaderSize | null {
  // Signature (8) then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4).
  if (ascii(b, 12, 4) !== 'IHDR' || b.length < 24) return null;
  return sized(be32(b, 16), be32(b, 20), 'png');
}

function gif(b: Uint8Array): ImageHeaderSize | null {
  if (b.length < 10) return null;
  return sized(le16(b, 6), le16(b, 8), 'gif');
}

function webp(b: Uint8Array): ImageHeaderSize | null {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (b.length < 30 || b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return sized(le16(b, 26) & 0x3fff, le16(b, 28) & 0x3fff, 'webp');
  }
  if (chunk === 'VP8L') {
    // Signature byte 0x2f, then width−1 and height−1 as 14-bit fields, little-endian bit order.
    if (b.length < 25 || b[20] !== 0x2f) return null;
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, 'webp');
  }
  if (chunk === 'VP8X') {
    // Flags (1) + reserved (3), then canvas width−1 and height−1 as 24-bit little-endian.
    if (b.length < 30) return null;
    return sized(le24(b, 24) + 1, le24(b, 27) + 1, 'webp');
  }
  return null;
}

function jpeg(b: Uint8Array): ImageHeaderSize | null | typeof NEED_MORE {
  let i = 2;
  for (;;) {
    if (i >= b.length) return NEED_MORE;
    if (b[i] !== 0xff) return null;
    while (i < b.length && b[i] === 0xff) i++; // fill bytes
    if (i >= b.length) return NEED_MORE;
    const marker = b[i]!;
    i++;
    // Markers without a length field: SOI, RST0–7, TEM.
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / scan data before any SOF
    if (i + 2 > b.length) return NEED_MORE;
    const len = be16(b, i);
    if (len < 2) return null;
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 7 > b.length) return NEED_MORE;
      return sized(be16(b, i + 5), be16(b, i + 3), 'jpeg');
    }
    i += len;
  }
}

function fromHeader(b: Uint8Array): ImageHeaderSize | null | typeof NEED_MORE {
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return png(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  const sig = ascii(b, 0, 6);
  if (sig === 'GIF87a' || sig === 'GIF89a') return gif(b);
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  return null;
}

/** Width, height and type from the first bytes of a PNG, JPEG, GIF or WebP; null when unknown or cut short. */
export function imageSizeFromHeader(bytes: Uint8Array): ImageHeaderSize | null {
  const r = fromHeader(bytes);
  return r === NEED_MORE ? null : r;
}

async function readHead(path: string, length: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await fh.read(buf, filled, length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

/**
 * Size of the image at `path`, reading only its head (64 KiB, up to 512 KiB for a JPEG whose
 * SOF sits behind large metadata). Null for an unknown format; I/O errors (missing file,
 * permissions) reject so the caller can say which it was.
 */
export async function readImageSize(path: string): Promise<ImageHeaderSize | null> {
  const head = await readHead(path, FIRST_READ);
  const r = fromHeader(head);
  if (r !== NEED_MORE) return r;
  if (head.length < FIRST_READ) return null; // the whole file was read
  const more = fromHeader(await readHead(path, JPEG_MAX_READ));
  return more === NEED_MORE ? null : more;
}
