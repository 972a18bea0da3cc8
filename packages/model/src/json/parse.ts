/**
 * A strict JSON parser that, unlike JSON.parse, reports keys repeated within one object (E³'s README
 * example repeats "clients" five times in one stage; JSON.parse silently keeps the last), gives line and
 * column for syntax errors, and bounds nesting depth.
 */
export interface DuplicateKey {
  /** JSON Pointer of the object holding the repeated key. */
  path: string;
  key: string;
  /** How many times the key appears in that object. */
  count: number;
  /** 1-based line of the second occurrence. */
  line: number;
}

export interface JsonParseResult {
  value?: unknown;
  /** A syntax problem: message with line and column. Undefined when the text is valid JSON. */
  syntaxError?: string;
  duplicates: DuplicateKey[];
}

export const MAX_JSON_DEPTH = 512;

class Fail extends Error {}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** `line L, column C` (1-based) of offset `at` in `text`. */
function position(text: string, at: number): string {
  let line = 1;
  let col = 1;
  for (let k = 0; k < at && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

/** 1-based line of offset `at` in `text`. */
function lineOf(text: string, at: number): number {
  let line = 1;
  for (let k = 0; k < at; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

export function parseJson(text: string): JsonParseResult {
  let i = 0;
  const duplicates: DuplicateKey[] = [];
  const n = text.length;

  const fail = (message: string, at = i): never => {
    if (at >= n && !message.startsWith('unexpected end')) message = `unexpected end of input (${message})`;
    const near = at < n ? ` near ${JSON.stringify(text.slice(at, at + 20))}` : '';
    throw new Fail(`${message} at ${position(text, at)}${near}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    let out = '';
    let from = i;
    for (;;) {
      if (i >= n) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(from, i);
        i++;
        return out;
      }
      if (c < 32) fail('control character in string');
      if (c === 92) {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else fail('bad escape');
        from = i;
      } else i++;
    }
  };
  const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  const value = (path: string, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    ws();
    if (i >= n) fail('unexpected end of input');
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Map<string, { count: number; line: number }>();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a property name in double quotes');
        const keyAt = i;
        const key = str();
        const prior = seen.get(key);
        if (prior) prior.count++;
        else seen.set(key, { count: 1, line: 0 });
        if (prior && prior.count === 2) prior.line = lineOf(text, keyAt);
        ws();
        if (text[i] !== ':') fail("expected ':' after a property name");
        i++;
        const v = value(`${path}/${escapePointer(key)}`, depth + 1);
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          break;
        }
        fail("expected ',' or '}' in an object");
      }
      for (const [key, s] of seen) if (s.count > 1) duplicates.push({ path: path || '/', key, count: s.count, line: s.line });
      return obj;
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}/${arr.length}`, depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          break;
        }
        fail("expected ',' or ']' in an array");
      }
      return arr;
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0].length > 0 && m[0] !== '-') {
      i += m[0].length;
      const num = Number(m[0]);
      if (!Number.isFinite(num)) fail('number out of range', i - m[0].length);
      return num;
    }
    return fail('unexpected character');
  };

  try {
    let start = 0;
    if (text.charCodeAt(0) === 0xfeff) start = 1;
    i = start;
    const v = value('', 0);
    ws();
    if (i < n) fail('unexpected text after the JSON value');
    return { value: v, duplicates };
  } catch (err) {
    if (err instanceof Fail) return { syntaxError: err.message, duplicates };
    if (err instanceof RangeError) return { syntaxError: 'JSON too deeply nested', duplicates };
    throw err;
  }
}
