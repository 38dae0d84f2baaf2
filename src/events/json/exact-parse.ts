/**
 * A JSON parser that keeps integers `JSON.parse` would round: an integer
 * outside ±(2^53 − 1) comes back as a `bigint`, everything else as
 * `JSON.parse` returns it. Tracee prints 64-bit counters as bare numbers in a
 * few places (nanosecond timestamps in its legacy JSON, stack addresses), and
 * a nanosecond must not be lost.
 *
 * @internal
 * @module
 */

/** What {@link parseExact} returns: JSON values, with bigints for large integers. */
export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [key: string]: ExactJson };

/** A syntax error, with the offset where it was found. @internal */
export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER = /^-?\d+$/;

/** Parses `text` as JSON; throws {@link JsonSyntaxError}. @internal */
export function parseExact(text: string): ExactJson {
  let pos = 0;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(pos >= text.length ? "unexpected end of JSON" : what, pos);
  };
  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };
  const expect = (ch: string) => {
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };

  const parseString = (): string => {
    const start = pos;
    pos++; // the opening quote
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c)) fail("unterminated string");
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      pos += c === 0x5c ? 2 : 1;
    }
    pos++;
    // JSON.parse decodes escapes exactly as the spec says.
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      pos = start;
      return fail("invalid string escape");
    }
  };

  const parseNumber = (): number | bigint => {
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match === null) return fail("unexpected character");
    pos += match[0].length;
    const n = Number(match[0]);
    if (!Number.isSafeInteger(n) && INTEGER.test(match[0]) && Number.isFinite(n)) return BigInt(match[0]);
    return n;
  };

  const parseValue = (depth: number): ExactJson => {
    if (depth > 512) fail("nested too deeply");
    skipSpace();
    const c = text[pos];
    switch (c) {
      case "{": {
        pos++;
        const out: { [key: string]: ExactJson } = {};
        skipSpace();
        if (text[pos] === "}") {
          pos++;
          return out;
        }
        for (;;) {
          skipSpace();
          if (text[pos] !== '"') fail("expected a property name");
          const key = parseString();
          skipSpace();
          expect(":");
          const value = parseValue(depth + 1);
          // An own property even for "__proto__": never a prototype change.
          Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
          skipSpace();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          expect("}");
          return out;
        }
      }
      case "[": {
        pos++;
        const out: ExactJson[] = [];
        skipSpace();
        if (text[pos] === "]") {
          pos++;
          return out;
        }
        for (;;) {
          out.push(parseValue(depth + 1));
          skipSpace();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          expect("]");
          return out;
        }
      }
      case '"':
        return parseString();
      case "t":
        if (text.startsWith("true", pos)) {
          pos += 4;
          return true;
        }
        return fail("unexpected character");
      case "f":
        if (text.startsWith("false", pos)) {
          pos += 5;
          return false;
        }
        return fail("unexpected character");
      case "n":
        if (text.startsWith("null", pos)) {
          pos += 4;
          return null;
        }
        return fail("unexpected character");
      default:
        return parseNumber();
    }
  };

  const value = parseValue(0);
  skipSpace();
  if (pos < text.length) fail("unexpected data after the JSON value");
  return value;
}
