/**
 * Streaming readers of an import's input, text chunk by text chunk, so a
 * file of a million rows is never in memory at once: NDJSON (one object a
 * line), a JSON array of objects (split into elements as it arrives), and CSV
 * with a header row (RFC 4180 quoting, fields that span lines). Each yields
 * records with the line they start on. A record that cannot be read (not
 * JSON, a wrong number of CSV fields) comes with its `error`, and reading goes
 * on; input that cannot be read on (a JSON array never closed, a quote never
 * closed, a bad CSV header) throws a {@link RowError} with its line.
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

/** Splits one CSV record's text into fields; `undefined` while a quoted field is still open. */
function splitCsv(text: string, line: number): string[] | undefined {
  const fields: string[] = [];
  let field = "";
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      // A quoted field: up to the closing quote, "" for a quote.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return undefined;
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < text.length && text[i] !== ",") throw new RowError(`unexpected ${JSON.stringify(text[i])} after a closing quote`, line);
    } else {
      const comma = text.indexOf(",", i);
      field = comma < 0 ? text.slice(i) : text.slice(i, comma);
      i = comma < 0 ? text.length : comma;
    }
    fields.push(field);
    field = "";
    if (i >= text.length) return fields;
    i++; // the comma
    if (i === text.length) {
      fields.push("");
      return fields;
    }
  }
}

/** Longest CSV record (a quoted field left open reads on until this, then fails). */
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/**
 * CSV records with the header row's names: quoted fields may hold commas,
 * quotes (`""`) and line breaks. Blank lines are skipped. Each record must
 * have as many fields as the header.
 *
 * @param columns - maps a header name to the name records use; throws a RowError for one it does not take.
 */
export async function* csvRecords(
  chunks: AsyncIterable<string>,
  columns: (header: readonly string[]) => readonly string[],
): AsyncGenerator<InputRecord> {
  let names: readonly string[] | undefined;
  let pending: string | undefined;
  let pendingLine = 0;
  let pendingEol = "";
  for await (const { line, text, eol } of lines(chunks)) {
    let record: string;
    let recordLine: number;
    if (pending === undefined) {
      if (text.trim() === "") continue;
      record = text;
      recordLine = line;
    } else {
      // A line break inside a quoted field is kept as it was.
      record = `${pending}${pendingEol}${text}`;
      recordLine = pendingLine;
    }
    const fields = record.includes('"') ? splitCsv(record, recordLine) : record.split(",");
    if (fields === undefined) {
      if (record.length > MAX_RECORD_CHARS) throw new RowError("a quoted field is never closed", recordLine);
      pending = record;
      pendingLine = recordLine;
      pendingEol = eol;
      continue;
    }
    pending = undefined;
    if (names === undefined) {
      try {
        names = columns(fields.map((f) => f.trim()));
      } catch (err) {
        throw err instanceof RowError ? new RowError(`header: ${err.message}`, recordLine) : err;
      }
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
  if (pending !== undefined) throw new RowError("a quoted field is never closed", pendingLine);
}
