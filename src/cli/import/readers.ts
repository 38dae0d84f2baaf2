/**
 * Streaming readers of an import's input, text chunk by text chunk, so a
 * file of a million rows is never in memory at once: NDJSON (one object a
 * line), a JSON array of objects (split into elements as it arrives), and CSV
 * with a header row (RFC 4180 quoting, fields that span lines). Each yields
 * records with the line they start on. A record that cannot be read (not
 * JSON, a wrong number of CSV fields, text after a CSV field's closing quote)
 * comes with its `error`, and reading goes on; input that cannot be read on
 * (a JSON array never closed, a quote never closed, a bad CSV header) throws
 * a {@link RowError} with its line.
 *
 * @internal
 * @module
 */
import { type InputRecord, RowError } from "./rows.js";

/** The formats an import reads. @internal */
export type InputFormat = "json" | "ndjson" | "csv";
export const INPUT_FORMATS: readonly InputFormat[] = ["json", "ndjson", "csv"];

/** The format a file's name says, if it says one. @internal */
export function formatFromName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".csv")) return "csv";
  return undefined;
}

/**
 * The format the text's first character suggests: `[` a JSON array, `{` NDJSON,
 * anything else CSV. Also hands back the chunks it read to find out.
 *
 * @internal
 */
export async function sniffFormat(chunks: AsyncIterable<string>): Promise<{ format: InputFormat; chunks: AsyncIterable<string> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const seen: string[] = [];
  let first: string | undefined;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) break;
    seen.push(next.value);
    const match = /[^\s\uFEFF]/.exec(next.value);
    if (match !== null) {
      first = match[0];
      break;
    }
  }
  const format: InputFormat = first === "[" ? "json" : first === "{" ? "ndjson" : "csv";
  async function* replay(): AsyncGenerator<string> {
    yield* seen;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { format, chunks: replay() };
}

/**
 * Lines of the text, numbered from 1, without their `\n` or `\r\n` (`eol`
 * says which ended it, `""` for the last without one); a leading BOM is dropped.
 */
export async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string; eol: string }> {
  let rest = "";
  let line = 0;
  let first = true;
  for await (let chunk of chunks) {
    if (first && chunk !== "") {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let start = 0;
    let text = rest + chunk;
    rest = "";
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end < 0) break;
      const raw = text.slice(start, end);
      const crlf = raw.endsWith("\r");
      yield { line: ++line, text: crlf ? raw.slice(0, -1) : raw, eol: crlf ? "\r\n" : "\n" };
      start = end + 1;
    }
    rest = text.slice(start);
    text = "";
  }
  if (rest !== "") yield { line: ++line, text: rest.endsWith("\r") ? rest.slice(0, -1) : rest, eol: "" };
}

/** The record of one JSON object's text; a bad one is a record with its `error`. */
function objectRecord(text: string, line: number): InputRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { line, fields: {}, text: false, error: `not valid JSON (${(err as Error).message})` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { line, fields: {}, text: false, error: "expected a JSON object" };
  }
  return { line, fields: parsed as Record<string, unknown>, text: false };
}

/** NDJSON: one object a line; blank lines are skipped. */
export async function* ndjsonRecords(chunks: AsyncIterable<string>): AsyncGenerator<InputRecord> {
  for await (const { line, text } of lines(chunks)) {
    if (text.trim() === "") continue;
    yield objectRecord(text, line);
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0xfeff]);

/**
 * A JSON array of objects, read element by element: the scanner follows
 * strings and brackets to find where each top-level element ends, and
 * `JSON.parse` reads it.
 */
export async function* jsonArrayRecords(chunks: AsyncIterable<string>): AsyncGenerator<InputRecord> {
  /** before the `[`; expecting an element; inside one; past the `]`. */
  let state = "before" as "before" | "expect" | "element" | "after";
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = "";
  let elementLine = 1;
  let sawElement = false;
  const unexpected = (c: string, what: string) => new RowError(`expected ${what}, got ${JSON.stringify(c)}`, line);

  for await (const chunk of chunks) {
    let start = state === "element" ? 0 : -1; // where the element being read starts in this chunk
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (state === "element") {
        if (code === 0x0a) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (code === 0x5c) escaped = true;
          else if (code === 0x22) inString = false;
          continue;
        }
        if (code === 0x22) inString = true;
        else if (code === 0x7b || code === 0x5b) depth++;
        else if (code === 0x7d || code === 0x5d) {
          if (depth === 0) {
            // The array's own `]` ends the last element.
            element += chunk.slice(start, i);
            yield objectRecord(element, elementLine);
            element = "";
            start = -1;
            state = "after";
            continue;
          }
          depth--;
        } else if (code === 0x2c && depth === 0) {
          element += chunk.slice(start, i);
          yield objectRecord(element, elementLine);
          element = "";
          start = -1;
          state = "expect";
        }
        continue;
      }
      if (code === 0x0a) line++;
      if (WHITESPACE.has(code)) continue;
      const c = chunk[i] as string;
      if (state === "before") {
        if (c !== "[") throw unexpected(c, "a JSON array");
        state = "expect";
        sawElement = false;
      } else if (state === "expect") {
        if (c === "]" && !sawElement) {
          state = "after";
          continue;
        }
        if (c === "]" || c === ",") throw unexpected(c, "an element");
        state = "element";
        sawElement = true;
        elementLine = line;
        start = i;
        depth = 0;
        inString = false;
        escaped = false;
        i--; // read this character as the element's first
      } else if (state === "after") {
        throw unexpected(c, "nothing after the array's closing ]");
      }
    }
    if (state === "element") element += chunk.slice(start);
  }
  if (state === "before") return; // empty input
  if (state !== "after") throw new RowError("the JSON array is not closed: the input ended inside it", line);
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/** One CSV record's fields; `error` when a quoted field is followed by text (`"Acme" Inc`). @internal */
export interface CsvRow {
  readonly fields: string[];
  readonly error?: string;
}

/**
 * Splits CSV text into records, one line at a time, remembering across lines
 * whether a quoted field is open: every character is looked at once, however
 * many lines a quoted field spans (`scanned` counts them).
 *
 * A field that starts with `"` runs to the closing quote (`""` is a quote,
 * line breaks are kept as they were); any other field is text up to the next
 * comma, quotes and all. Text after a closing quote (`"Acme" Inc`) is kept
 * in the field and the record comes with an `error`.
 *
 * @internal
 */
export class CsvScanner {
  /** Characters examined so far: each at most twice (a look for a quote at a record's start, then the split). */
  scanned = 0;
  #fields: string[] = [];
  /** The pieces of the field being read. */
  #parts: string[] = [];
  /** Inside a quoted field. */
  #quoted = false;
  /** Characters of the record so far, line breaks included. */
  #length = 0;
  #error: string | undefined;

  /** Characters of the record read so far (a quoted field left open grows it line by line). */
  get length(): number {
    return this.#length;
  }

  /** Whether a quoted field is open: the record goes on at the next line. */
  get open(): boolean {
    return this.#quoted;
  }

  /**
   * Reads one line (`eol` is what ended it, kept in a quoted field that goes
   * on); returns the record when it ends on this line, `undefined` while a
   * quoted field is still open.
   */
  line(text: string, eol: string): CsvRow | undefined {
    this.#length += text.length + eol.length;
    const n = text.length;
    if (!this.#quoted && this.#fields.length === 0) {
      // Most lines hold no quote: split them at once.
      const quote = text.indexOf('"');
      if (quote < 0) {
        this.scanned += 2 * n;
        this.#length = 0;
        return { fields: text.split(",") };
      }
      this.scanned += quote + 1;
    }
    let i = 0;
    for (;;) {
      if (!this.#quoted) {
        if (text.charCodeAt(i) === QUOTE) {
          this.#quoted = true;
          this.scanned++;
          i++;
        } else {
          i = this.#unquoted(text, i);
          this.#fields.push(this.#take());
        }
      }
      if (this.#quoted) {
        i = this.#quotedPart(text, i);
        if (i < 0) {
          this.#parts.push(eol);
          return undefined;
        }
        if (i < n && text.charCodeAt(i) !== COMMA) {
          const from = i;
          i = this.#unquoted(text, i);
          this.#error ??= `text after a closing quote: ${JSON.stringify(text.slice(from, i))} (a quote inside a quoted field is written "")`;
        }
        this.#fields.push(this.#take());
      }
      // At the end of the line, or at a comma.
      if (i >= n) return this.#finish();
      i++;
      this.scanned++;
      if (i === n) {
        this.#fields.push("");
        return this.#finish();
      }
    }
  }

  /** Reads text up to the next comma (or the end) into the field; returns where it stopped. */
  #unquoted(text: string, from: number): number {
    const comma = text.indexOf(",", from);
    const end = comma < 0 ? text.length : comma;
    this.scanned += end - from;
    if (end > from) this.#parts.push(text.slice(from, end));
    return end;
  }

  /** Reads a quoted field's text up to its closing quote; returns the index after it, or -1 when the line ends first. */
  #quotedPart(text: string, from: number): number {
    let i = from;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) {
        this.scanned += text.length - i;
        if (text.length > i) this.#parts.push(text.slice(i));
        return -1;
      }
      this.scanned += q + 1 - i;
      if (q > i) this.#parts.push(text.slice(i, q));
      if (text.charCodeAt(q + 1) === QUOTE) {
        this.#parts.push('"');
        this.scanned++;
        i = q + 2;
        continue;
      }
      this.#quoted = false;
      return q + 1;
    }
  }

  /** The field read so far, and a fresh one. */
  #take(): string {
    const field = this.#parts.length === 1 ? (this.#parts[0] as string) : this.#parts.join("");
    this.#parts = [];
    return field;
  }

  #finish(): CsvRow {
    const row: CsvRow = this.#error === undefined ? { fields: this.#fields } : { fields: this.#fields, error: this.#error };
    this.#fields = [];
    this.#error = undefined;
    this.#length = 0;
    return row;
  }
}

/** Longest CSV record (a quoted field left open reads on until this, then fails). */
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/**
 * CSV records with the header row's names: quoted fields may hold commas,
 * quotes (`""`) and line breaks. Blank lines are skipped. Each record must
 * have as many fields as the header; a record with the wrong count, or with
 * text after a closing quote, comes with its `error`.
 *
 * @param columns - maps a header name to the name records use; throws a RowError for one it does not take.
 * @param scanner - reads the lines into records (a test passes its own to count the characters examined).
 */
export async function* csvRecords(
  chunks: AsyncIterable<string>,
  columns: (header: readonly string[]) => readonly string[],
  scanner: CsvScanner = new CsvScanner(),
): AsyncGenerator<InputRecord> {
  let names: readonly string[] | undefined;
  let recordLine = 0;
  for await (const { line, text, eol } of lines(chunks)) {
    if (!scanner.open) {
      if (text.trim() === "") continue;
      recordLine = line;
    }
    const row = scanner.line(text, eol);
    if (row === undefined) {
      if (scanner.length > MAX_RECORD_CHARS) throw new RowError("a quoted field is never closed", recordLine);
      continue;
    }
    const { fields, error } = row;
    if (names === undefined) {
      if (error !== undefined) throw new RowError(`header: ${error}`, recordLine);
      try {
        names = columns(fields.map((f) => f.trim()));
      } catch (err) {
        throw err instanceof RowError ? new RowError(`header: ${err.message}`, recordLine) : err;
      }
      continue;
    }
    if (error !== undefined) {
      yield { line: recordLine, fields: {}, text: true, error };
      continue;
    }
    if (fields.length !== names.length) {
      yield { line: recordLine, fields: {}, text: true, error: `expected ${names.length} fields (as the header), got ${fields.length}` };
      continue;
    }
    const named: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (name === "__proto__") Object.defineProperty(named, name, { value: fields[i], enumerable: true, writable: true, configurable: true });
      else named[name] = fields[i] as string;
    }
    yield { line: recordLine, fields: named, text: true };
  }
  if (scanner.open) throw new RowError("a quoted field is never closed", recordLine);
}
