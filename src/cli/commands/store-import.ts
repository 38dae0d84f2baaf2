/**
 * `tracee-ds store import`: a JSON, NDJSON or CSV file of IP reputations or
 * key/value pairs, streamed into a store in `WriteBatchData` batches.
 *
 * @internal
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_ENTRIES, isWriteAllError, type WriteAllResult } from "../../grpc/datastore-batch.js";
import { DataStoreClient } from "../../grpc/datastore-client.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, UsageError } from "../errors.js";
import { entryCheck } from "../import/encoding.js";
import { type ImportEntry, importEntries, type InvalidRow, openInput, readRecords } from "../import/input.js";
import { formatBytes, ImportMeter } from "../import/progress.js";
import { INPUT_FORMATS, type InputFormat } from "../import/readers.js";
import { type CliIo, println } from "../io.js";
import { clientCredentials } from "../tls.js";
import { oneOf, positiveInteger, required } from "./shared.js";
import { CONNECTION_HELP, connectionFlags, remoteStore, singleAddress, STORE_OPTIONS, storeKind } from "./store-shared.js";

/** What import says, on standard error, when the input holds no entries. */
const NOTHING_SENT = "nothing sent: the input had no entries";
/** Bad rows printed one by one with --skip-invalid; the rest are counted. */
const SKIPPED_SHOWN = 10;

export const STORE_IMPORT_HELP = `Usage: tracee-ds store import FILE|- --store NAME --source NAME [options]

Writes every entry of a file (or standard input, "-") into the store, owned
by --source, in WriteBatchData batches. The file is read as it is sent, so
its size does not matter.

Formats (--format, else the extension .json/.ndjson/.jsonl/.csv, else the
first character: [ JSON, { NDJSON, anything else CSV):
  json     a JSON array of objects
  ndjson   one JSON object a line
  csv      a header row, then one entry a row (RFC 4180 quoting)

IP reputation stores (--kind ip; the default for ip_reputation), fields:
  ip,status,severity,tags,last_updated,metadata
  status: allow, deny, suspicious, unknown or 0-3; severity: 1-10;
  tags: "c2;botnet" or a JSON array; last_updated: RFC 3339 (default: now);
  metadata: a JSON object of strings, or "k=v;k=v" in CSV.
Value stores (--kind value; the default for other names), fields:
  key,value      in CSV the key is text and the value JSON if it parses, else text

A file is checked whole before anything is sent: a bad row is reported with
its line number and nothing is sent (exit 2). Standard input is checked as it
is sent: a bad row stops the import, and what was written before it is said.

Options:
  --store NAME           the store (required)
  --source NAME          who writes: the source that owns the entries (required)
  --kind K               ip or value (default: ip for ip_reputation, value otherwise)
  --format F             json, ndjson or csv
  --skip-invalid         skip bad rows (each is reported, the first ${SKIPPED_SHOWN} by line), send the rest
  --batch-bytes N        largest batch message in bytes (default ${DEFAULT_MAX_BATCH_BYTES})
  --batch-entries N      most entries in a batch (default ${DEFAULT_MAX_BATCH_ENTRIES})
  --concurrency N        batches in flight at once (default 1: in order; more may
                         apply batches out of order, for inputs whose keys do not repeat)
${CONNECTION_HELP.replace("give up on a call", "give up on a batch")}

A progress bar is shown when standard error is a terminal; a summary line
follows either way.
Exit status: 0 all written (or nothing to send), 1 the server refused a batch
or was unreachable (the error says how many entries were written before it),
2 usage error or a bad row (1 if entries were written before a bad row on
standard input).

Examples:
  tracee-ds store import feed.csv --store ip_reputation --source threat-feed
  producer | tracee-ds store import - --format ndjson --store known_hosts --source cmdb`;

/** Prints skipped rows, the first few by line, and counts them all. */
class SkipReport {
  count = 0;
  constructor(private readonly io: CliIo) {}
  add(row: InvalidRow): void {
    this.count++;
    if (this.count <= SKIPPED_SHOWN) println(this.io.stderr, `skipped ${row.where}: ${row.reason}`);
    else if (this.count === SKIPPED_SHOWN + 1) println(this.io.stderr, "skipped more rows; the summary counts them");
  }
}

/** The error that stops a run at a bad row of standard input. */
class StopAtRow extends Error {
  constructor(readonly row: InvalidRow) {
    super(`${row.where}: ${row.reason}`);
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `tracee-ds store import`. @internal */
export async function storeImportCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...STORE_OPTIONS,
      source: { type: "string" },
      format: { type: "string" },
      "skip-invalid": { type: "boolean" },
      "batch-bytes": { type: "string" },
      "batch-entries": { type: "string" },
      concurrency: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help === true) {
    io.stdout.write(`${STORE_IMPORT_HELP}\n`);
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('give the file to import, or "-" for standard input');
  if (positionals.length > 1) throw new UsageError(`one file at a time; unexpected ${JSON.stringify(positionals[1])}`);
  const file = positionals[0] as string;
  const { addresses, store, deadlineMs } = connectionFlags(values);
  const address = singleAddress(addresses, "import");
  const source = required("source", values.source);
  const kind = storeKind(store, values.kind);
  const format: InputFormat | undefined = values.format === undefined ? undefined : oneOf("format", values.format, INPUT_FORMATS, "ndjson");
  const maxBatchBytes = positiveInteger("batch-bytes", values["batch-bytes"], DEFAULT_MAX_BATCH_BYTES);
  const maxBatchEntries = positiveInteger("batch-entries", values["batch-entries"], DEFAULT_MAX_BATCH_ENTRIES);
  const concurrency = positiveInteger("concurrency", values.concurrency, 1);
  const skip = values["skip-invalid"] === true;
  const credentials = clientCredentials(values, io.cwd);
  const input = await openInput(file, resolve(io.cwd, file), io.stdin);
  const now = new Date();
  const skipped = new SkipReport(io);
  // Every row is packed as it will be sent, so a row the client cannot send is a bad row with its line.
  const check = entryCheck(kind, { store, source, maxBatchBytes });

  // A file is checked whole first: its bad rows are found before anything is sent.
  let total: number | undefined;
  /** Rows of the file that read but cannot be sent: the second read skips them by line, without packing every row again. */
  const unsendable = new Set<number>();
  if (input.rereadable) {
    let count = 0;
    let bad = 0;
    let first: InvalidRow | undefined;
    const { records } = await readRecords(input, format, kind);
    const onInvalid = (row: InvalidRow) => {
      bad++;
      first ??= row;
      if (row.unsendable) unsendable.add(row.line);
      if (skip) skipped.add(row);
    };
    for await (const _ of importEntries(records, { kind, where: input.name, now, onInvalid, check })) count++;
    if (!skip && first !== undefined) {
      const more = bad > 1 ? `; ${bad} bad rows in all (--skip-invalid skips them)` : " (--skip-invalid skips it)";
      throw new UsageError(`${first.where}: ${first.reason}${more}; nothing sent`);
    }
    total = count;
    if (count === 0) {
      println(io.stderr, NOTHING_SENT + (skipped.count > 0 ? ` (${plural(skipped.count, "invalid row")} skipped)` : ""));
      return EXIT_OK;
    }
  }

  const { records } = await readRecords(input, format, kind);
  let read = 0;
  async function* counted(entries: AsyncIterable<ImportEntry>): AsyncGenerator<ImportEntry> {
    for await (const entry of entries) {
      read++;
      yield entry;
    }
  }
  // A checked file's bad rows were reported: the unsendable ones are skipped by line, the others fail to read
  // again. Standard input is checked as it is sent: a bad row is skipped, or stops the import, with its line.
  const entries = input.rereadable
    ? importEntries(records, { kind, where: input.name, now, onInvalid: () => undefined, skipLines: unsendable })
    : importEntries(records, {
        kind,
        where: input.name,
        now,
        check,
        onInvalid: (row) => {
          if (skip) skipped.add(row);
          else throw new StopAtRow(row);
        },
      });

  const client = new DataStoreClient(address, { credentials, deadlineMs });
  const meter = new ImportMeter(io.stderr, total);
  let result: WriteAllResult;
  try {
    result = await remoteStore(client, store, kind).writeAll(source, counted(entries), {
      maxBatchBytes,
      maxBatchEntries,
      concurrency,
      onProgress: (progress) => meter.update(progress),
    });
  } catch (err) {
    meter.finish();
    if (!isWriteAllError(err)) throw err;
    const written = `${plural(err.written, "entry", "entries")} ${err.written === 1 ? "was" : "were"} written before it`;
    const resume = err.written === err.resumeAt ? "" : ` (the first ${err.resumeAt} of the input among them)`;
    if (err.cause instanceof StopAtRow || err.cause instanceof UsageError) {
      // Bad input on standard input, found as it was sent.
      println(io.stderr, `tracee-ds store import: ${(err.cause as Error).message}`);
      println(io.stderr, `${written}${resume}`);
      return err.written > 0 ? EXIT_REFUSED : EXIT_USAGE;
    }
    println(io.stderr, `failed  ${client.address}  ${err.codeName}: ${err.details}`);
    return EXIT_REFUSED;
  } finally {
    client.close();
  }
  meter.finish();
  if (read === 0) {
    println(io.stderr, NOTHING_SENT + (skipped.count > 0 ? ` (${plural(skipped.count, "invalid row")} skipped)` : ""));
    return EXIT_OK;
  }
  const seconds = meter.elapsedSeconds();
  println(io.stdout, `ok      ${client.address}  ${result.written} entries written to ${store}/${source}`);
  const stored = result.stored === result.written ? "" : ` (${result.stored} stored: keys repeat)`;
  const skippedText = skipped.count > 0 ? `; ${plural(skipped.count, "invalid row")} skipped` : "";
  println(
    io.stderr,
    `${plural(result.written, "entry", "entries")}${stored} in ${plural(result.batches, "batch", "batches")}, ` +
      `${formatBytes(result.bytes)}, ${seconds.toFixed(2)} s (${Math.round(result.written / Math.max(seconds, 1e-3))} entries/s)${skippedText}`,
  );
  return EXIT_OK;
}
