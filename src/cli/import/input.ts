/**
 * An import's input, from a file or standard input, as store entries: the
 * format from `--format`, the file's extension, or the first character; the
 * records of that format; each record checked and turned into an entry of
 * the store's kind, or reported with `name:line`.
 *
 * @internal
 * @module
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { JsonValue } from "type-fest";
import type { IPReputation } from "../../datastores/types.js";
import type { StoreEntry } from "../../datastores/store.js";
import { UsageError } from "../errors.js";
import { csvRecords, formatFromName, type InputFormat, jsonArrayRecords, ndjsonRecords, sniffFormat } from "./readers.js";
import { fieldName, type InputRecord, IP_FIELDS, ipEntry, RowError, type StoreKind, VALUE_FIELDS, valueEntry } from "./rows.js";

/** Where an import reads from. @internal */
export interface ImportInput {
  /** The file as given, or `stdin`. */
  readonly name: string;
  /** Whether it can be read twice (a regular file), so it can be checked before anything is sent. */
  readonly rereadable: boolean;
  /** A fresh read of the text, chunk by chunk. */
  open(): AsyncIterable<string>;
}

/** The input named `file` (`-` for standard input). @internal */
export async function openInput(file: string, path: string, stdin: Readable): Promise<ImportInput> {
  if (file === "-") {
    return {
      name: "stdin",
      rereadable: false,
      open: () => {
        stdin.setEncoding("utf8");
        return stdin as AsyncIterable<string>;
      },
    };
  }
  let regular: boolean;
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory`);
    regular = stats.isFile();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // A named pipe or device reads once, like standard input.
  return {
    name: file,
    rereadable: regular,
    open: () => createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 }) as AsyncIterable<string>,
  };
}

/** The CSV header's names for `kind`: every column known, the required ones present. */
function csvColumns(kind: StoreKind): (header: readonly string[]) => string[] {
  return (header) => {
    const names = header.map((h) => {
      const name = fieldName(kind, h);
      if (name === undefined) {
        const expected = (kind === "ip" ? IP_FIELDS : VALUE_FIELDS).join(",");
        throw new RowError(`unknown column ${JSON.stringify(h)} (expected ${expected})`);
      }
      return name;
    });
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new RowError(`column ${JSON.stringify(twice)} appears twice`);
    const required = kind === "ip" ? ["ip", "status", "severity"] : ["key", "value"];
    const missing = required.filter((r) => !names.includes(r));
    if (missing.length > 0) throw new RowError(`missing column${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`);
    return names;
  };
}

/** The records of `input` in `format` (or the format its name or first character says). @internal */
export async function readRecords(
  input: ImportInput,
  format: InputFormat | undefined,
  kind: StoreKind,
): Promise<{ format: InputFormat; records: AsyncIterable<InputRecord> }> {
  let chunks = input.open();
  let chosen = format ?? (input.name === "stdin" ? undefined : formatFromName(input.name));
  if (chosen === undefined) ({ format: chosen, chunks } = await sniffFormat(chunks));
  const records = chosen === "csv" ? csvRecords(chunks, csvColumns(kind)) : chosen === "json" ? jsonArrayRecords(chunks) : ndjsonRecords(chunks);
  return { format: chosen, records };
}

/** A bad row, with where it is. @internal */
export interface InvalidRow {
  readonly where: string;
  readonly line: number;
  readonly reason: string;
  /** The row was read but cannot be sent (the `check` refused it); a second read finds it only by its line. */
  readonly unsendable: boolean;
}

/** What an entry of each kind is. @internal */
export type ImportEntry = StoreEntry<string, IPReputation> | StoreEntry<JsonValue, JsonValue>;

/** How {@link importEntries} reads. @internal */
export interface ImportOptions {
  readonly kind: StoreKind;
  /** The input's name, for `name:line`. */
  readonly where: string;
  /** An IP reputation's `last_updated` when the row gives none. */
  readonly now: Date;
  /** Called for a bad row, which is then skipped; throwing stops the reading. */
  readonly onInvalid: (row: InvalidRow) => void;
  /** Throws a RowError for an entry that cannot be sent (see encoding.ts). */
  readonly check?: (entry: ImportEntry) => void;
  /** Lines to skip unread: the unsendable rows an earlier read found. */
  readonly skipLines?: ReadonlySet<number>;
}

/**
 * The entries of `records`: each record turned into an entry of `kind`, and
 * passed to `check`. A bad record goes to `onInvalid` and is skipped when it
 * returns; when it throws, the iteration throws. A malformed file (a JSON
 * array not closed, a CSV quote never closed) always throws a UsageError.
 *
 * @internal
 */
export async function* importEntries(records: AsyncIterable<InputRecord>, options: ImportOptions): AsyncGenerator<ImportEntry> {
  const { kind, where, now, onInvalid, check, skipLines } = options;
  const iterator = records[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<InputRecord>;
    try {
      next = await iterator.next();
    } catch (err) {
      // The input cannot be read on.
      if (err instanceof RowError) throw new UsageError(`${where}:${err.line ?? 0}: ${err.message}`);
      throw err;
    }
    if (next.done === true) return;
    const record = next.value;
    if (skipLines?.has(record.line) === true) continue;
    let entry: ImportEntry;
    let read = false;
    try {
      if (record.error !== undefined) throw new RowError(record.error);
      entry = kind === "ip" ? ipEntry(record, now) : valueEntry(record);
      read = true;
      check?.(entry);
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      onInvalid({ where: `${where}:${record.line}`, line: record.line, reason: err.message, unsendable: read });
      continue;
    }
    yield entry;
  }
}
