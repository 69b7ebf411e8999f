/**
 * A JSON number read from bytes, to the same double `JSON.parse` gives: Clinger's fast path
 * (an integer mantissa of at most 15 digits times an exact power of ten is one correctly rounded
 * operation), else `Number()` of the text.
 */

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Reads the number at `p` into `out.value`; returns the offset past it, or -1 if it is not JSON. */
export function readJsonNumber(b: Uint8Array, p: number, end: number, out: { value: number }): number {
  const start = p;
  const neg = b[p] === 0x2d;
  if (neg) p++;
  if (b[p] === 0x30) p++;
  else if (p < end && isDigit(b[p]!)) while (p < end && isDigit(b[p]!)) p++;
  else return -1;
  const intEnd = p;
  let fracDigits = 0;
  if (b[p] === 0x2e) {
    p++;
    while (p < end && isDigit(b[p]!)) p++;
    fracDigits = p - intEnd - 1;
    if (fracDigits === 0) return -1;
  }
  let exp = 0;
  if (b[p] === 0x65 || b[p] === 0x45) {
    p++;
    let sign = 1;
    if (b[p] === 0x2b || b[p] === 0x2d) sign = b[p++] === 0x2d ? -1 : 1;
    const e0 = p;
    while (p < end && isDigit(b[p]!)) {
      exp = exp * 10 + b[p]! - 0x30;
      p++;
    }
    if (p === e0) return -1;
    exp *= sign;
  }
  const digits = intEnd - start - (neg ? 1 : 0) + fracDigits;
  const e10 = exp - fracDigits;
  if (digits <= 15 && Math.abs(e10) <= 22) {
    let m = 0;
    for (let i = start + (neg ? 1 : 0); i < p; i++) {
      const c = b[i]!;
      if (c === 0x2e) continue;
      if (!isDigit(c)) break;
      m = m * 10 + c - 0x30;
    }
    const v = e10 === 0 ? m : e10 > 0 ? m * POW10[e10]! : m / POW10[-e10]!;
    out.value = neg ? -v : v;
  } else {
    let text = '';
    for (let i = start; i < p; i++) text += String.fromCharCode(b[i]!);
    out.value = Number(text);
  }
  return p;
}
