/**
 * A reader for Python literal reprs as HF Trainer prints them per step:
 *   {'loss': 0.0123, 'grad_norm': nan, 'rewards/accuracy_reward': 0.75, 'epoch': 0.02}
 * Single or double quotes, nan / inf / -inf, True / False / None, scientific numbers, tuples.
 * Not JSON, so JSON.parse cannot read it; this is a small recursive-descent parser, never eval.
 */
export type PyValue = number | string | boolean | null | PyValue[] | { [key: string]: PyValue };

class PyReader {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new Error(`${what} at column ${this.i + 1}`);
  }
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return this.str();
    const word = /^(?:-?inf|nan|True|False|None)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      const w = word[0];
      return w === 'True' ? true : w === 'False' ? false : w === 'None' ? null : w === 'nan' ? NaN : w === '-inf' ? -Infinity : Infinity;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      return Number(num[0]);
    }
    return this.fail('expected a value');
  }
  str(): string {
    const q = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const n = e === 'x' ? 2 : 4;
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + n), 16));
        this.i += n;
      } else out += '\\' + (e ?? '');
    }
    return this.fail('unterminated string');
  }
  list(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }
  dict(): { [key: string]: PyValue } {
    this.i++;
    const out: { [key: string]: PyValue } = {};
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail("expected ':'");
      const key = String(k);
      const v = this.value();
      // A plain assignment to "__proto__" would set the prototype, losing a key the file holds.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

/** Parse one Python literal; throws with a column on malformed input or trailing text. */
export function parsePythonLiteral(text: string): PyValue {
  const r = new PyReader(text);
  const v = r.value();
  r.ws();
  if (r.i !== text.length) r.fail('unexpected text after the value');
  return v;
}
