/**
 * Where each value of a JSON text starts: its line (1-based) by path (`evals[0].benchmarks[1].command`),
 * so a problem in `.vscode/grpo-studio.json` names the line it is on. A small scanner over the
 * same grammar JSON.parse accepts; on text it cannot follow it stops and returns what it found.
 */

export function jsonValueLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = (): void => {
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
    }
  };
  const fail = (): never => {
    throw new Error('stop');
  };
  const str = (): string => {
    const start = i;
    i++;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') i++;
      else if (c === '"') {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      } else if (c === '\n') fail();
    }
    return fail();
  };
  const value = (path: string): void => {
    ws();
    lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(path ? `${path}.${key}` : key);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let k = 0; ; k++) {
        value(`${path}[${k}]`);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') {
      str();
      return;
    }
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value('');
  } catch {
    // what was found before the text stopped making sense is still right
  }
  return lines;
}

/** The line of `path`, else of the nearest enclosing value that has one. */
export function lineOf(lines: Map<string, number>, path: string): number | undefined {
  for (let p = path; ; ) {
    const l = lines.get(p);
    if (l !== undefined) return l;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return lines.get('');
    p = p.slice(0, cut);
  }
}
