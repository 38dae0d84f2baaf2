/**
 * What the NDJSON and webhook inputs share: splitting bytes into lines,
 * telling the two JSON shapes apart, decoding a line and the error for a
 * line that is not an event.
 *
 * @module
 */
import { decodeEventJson, isEventJsonError } from "../json/decode.js";
import { decodeLegacyEventJson, isLegacyEventJsonError, legacyToEvent } from "../legacy/index.js";
import type { TraceeEvent } from "../model.js";

/**
 * Which JSON an input reads:
 *
 * - `"v1beta1"`: Tracee's event JSON today (`tracee --output json`, webhook
 *   bodies): a string `timestamp`, a `name`.
 * - `"legacy"`: the older `trace.Event` JSON that `tracee analyze` reads: a
 *   numeric `timestamp`, an `eventName`. Converted to the v1beta1 model.
 * - `"auto"`: decide per line, from its top-level keys.
 */
export type EventFormat = "auto" | "v1beta1" | "legacy";

/** The JSON a line was read as. */
export type EventLineFormat = "v1beta1" | "legacy";

const BRAND: unique symbol = Symbol.for("tracee-ds.EventLineError");

/**
 * A line of input that is not an event: `line` is its 1-based line number
 * (in the file or stream, or in the webhook request's body), `path` the
 * field (`data[3].u_int64`; empty for the whole line), `reason` what is
 * wrong there, `format` the JSON it was read as, and `cause` the decoder's
 * own error. `code` is always `"ERR_TRACEE_EVENT_LINE"`. Test for it with
 * {@link isEventLineError}.
 *
 * @example
 * ```ts
 * try {
 *   for await (const event of readEvents("events.ndjson", { onMalformed: "throw" })) handle(event);
 * } catch (err) {
 *   if (isEventLineError(err)) console.error(`line ${err.line}: ${err.path}: ${err.reason}`);
 * }
 * ```
 */
export class EventLineError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  /** Always `"ERR_TRACEE_EVENT_LINE"`. */
  readonly code = "ERR_TRACEE_EVENT_LINE";
  constructor(
    /** The line's number, from 1. */
    readonly line: number,
    /** The field that is wrong (`workload.process.pid`), or `""` for the whole line. */
    readonly path: string,
    /** What is wrong with it. */
    readonly reason: string,
    /** The JSON the line was read as. */
    readonly format: EventLineFormat,
    options?: ErrorOptions,
  ) {
    super(`line ${line}: ${path === "" ? reason : `${path}: ${reason}`}`, options);
    this.name = "EventLineError";
  }
}

/**
 * Whether `value` is an {@link EventLineError}, from this or any other copy
 * of this package.
 *
 * @example
 * ```ts
 * readEvents(file, { onMalformed: (err) => console.warn(err.message) });
 * if (isEventLineError(err)) console.error(err.line);
 * ```
 */
export function isEventLineError(value: unknown): value is EventLineError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Checks a `format` option. @internal */
export function checkFormat(format: unknown, where: string): EventFormat {
  if (format === undefined) return "auto";
  if (format === "auto" || format === "v1beta1" || format === "legacy") return format;
  throw new TypeError(`${where}: format must be "auto", "v1beta1" or "legacy", got ${JSON.stringify(format)}`);
}

// Character codes the sniffer looks at.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** The index after the string that opens at `i`, or -1 when it never closes. */
function stringEnd(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    let k = q - 1;
    while (s.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The index after the JSON value that starts at `i` (not checked, only skipped), or -1. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return stringEnd(s, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = stringEnd(s, j);
        if (j < 0) return -1;
        j--;
      } else if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    j++;
  }
  return j;
}

/**
 * Which JSON `line` is in, from its top-level keys, without parsing it: a
 * `timestamp` that is a string is v1beta1, one that is a number legacy; a
 * `name` key is v1beta1, an `eventName` key legacy. The first key that
 * tells decides; Tracee prints `timestamp` first, so its lines decide at
 * once. `undefined` when the line is not an object or says neither.
 *
 * @internal
 */
export function sniffFormat(line: string): EventLineFormat | undefined {
  let i = skipSpace(line, 0);
  if (line.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i++;
  for (;;) {
    i = skipSpace(line, i);
    if (line.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(line, i);
    if (keyEnd < 0) return undefined;
    const key = line.slice(i + 1, keyEnd - 1);
    i = skipSpace(line, keyEnd);
    if (line.charCodeAt(i) !== COLON) return undefined;
    i = skipSpace(line, i + 1);
    if (key === "timestamp") {
      const c = line.charCodeAt(i);
      if (c === QUOTE) return "v1beta1";
      if (c === MINUS || (c >= ZERO && c <= NINE)) return "legacy";
    } else if (key === "name") return "v1beta1";
    else if (key === "eventName") return "legacy";
    i = valueEnd(line, i);
    if (i < 0) return undefined;
    i = skipSpace(line, i);
    if (line.charCodeAt(i) !== COMMA) return undefined;
    i++;
  }
}

function lineError(err: unknown, lineNo: number, format: EventLineFormat): EventLineError {
  if (isEventJsonError(err) || isLegacyEventJsonError(err)) {
    return new EventLineError(lineNo, err.path, err.reason, format, { cause: err });
  }
  // Anything else a decoder throws (a nesting too deep for the parser, say)
  // still means this line could not be read.
  return new EventLineError(lineNo, "", err instanceof Error ? err.message : String(err), format, { cause: err });
}

/**
 * Decodes one non-blank line in `format` (`"auto"`: sniffed; a line that
 * says neither is read as v1beta1, whose error says best what is wrong, and
 * refused if that reader takes it).
 * Throws an {@link EventLineError} numbered `lineNo`.
 *
 * @internal
 */
export function decodeLine(line: string, format: EventFormat, lineNo: number): TraceeEvent {
  const sniffed = format === "auto" ? sniffFormat(line) : format;
  const as = sniffed ?? "v1beta1";
  let event: TraceeEvent;
  try {
    event = as === "v1beta1" ? decodeEventJson(line) : legacyToEvent(decodeLegacyEventJson(line));
  } catch (err) {
    throw lineError(err, lineNo, as);
  }
  // JSON the v1beta1 reader takes (every field is optional there) but that
  // has none of the keys an event of either kind has.
  if (sniffed === undefined) throw new EventLineError(lineNo, "", NEITHER, as);
  return event;
}

const NEITHER = "not a Tracee event: it has no timestamp, name or eventName";

/** Whether a line holds nothing but spaces and tabs (or nothing). @internal */
export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Splits text arriving in chunks into lines: bytes are decoded as UTF-8 with
 * characters split across chunks put back together, a leading BOM is dropped,
 * `\n` and `\r\n` both end a line, and a last line without one comes out of
 * {@link LineSplitter.end}. A line can be as long as memory allows.
 *
 * @internal
 */
export class LineSplitter {
  #decoder = new TextDecoder("utf-8");
  #partial = "";
  #atStart = true;

  /** The lines `chunk` completes, without their line ends. */
  push(chunk: string | Uint8Array): string[] {
    let text = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (this.#atStart && text !== "") {
      this.#atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let nl = text.indexOf("\n");
    if (nl < 0) {
      this.#partial += text;
      return [];
    }
    const lines = [withoutCR(this.#partial + text.slice(0, nl))];
    let start = nl + 1;
    while ((nl = text.indexOf("\n", start)) >= 0) {
      lines.push(withoutCR(text.slice(start, nl)));
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    return lines;
  }

  /** The last line, when the text did not end with a line end. */
  end(): string | undefined {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest === "" ? undefined : withoutCR(rest);
  }
}

const withoutCR = (line: string): string => (line.charCodeAt(line.length - 1) === 0x0d ? line.slice(0, -1) : line);
