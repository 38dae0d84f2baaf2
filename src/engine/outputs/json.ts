/**
 * `jsonOutput`: Tracee's `--output json`, one event per line, byte for byte.
 *
 * @module
 */
import { encodeEventJson } from "../../events/json/encode.js";
import type { TraceeEvent } from "../../events/model.js";
import { openOutputFile, StreamSink } from "./stream.js";
import type { EventOutput, OutputErrorHandler, OutputStats } from "./types.js";

/** Options of {@link jsonOutput}. */
export interface JsonOutputOptions {
  /**
   * A file: append to it instead of truncating it (default `false`: truncate,
   * as Tracee's `--output json:PATH` does).
   */
  readonly append?: boolean;
  /**
   * A stream: end it on `close()` (default `false`: the stream, say
   * `process.stdout`, stays open; `close()` only waits for the writes). A
   * file this output opened is always closed.
   */
  readonly end?: boolean;
  /** Called once, with the stream's first error; failures are counted in `stats().failed`. */
  readonly onError?: OutputErrorHandler;
}

/**
 * Writes each event as Tracee's JSON printer does: {@link encodeEventJson}
 * and a newline, one line per event, what `tracee --output json` prints.
 *
 * `target` is a stream (`process.stdout`, a socket, a `PassThrough`) or a
 * file path. A path is opened at once, synchronously, like Tracee's
 * `json:PATH`: missing parent directories are created (0750) and the file
 * created (0644) and truncated — pass `{ append: true }` to keep what it
 * holds. A path that cannot be opened throws here (`EISDIR`, `EACCES`).
 *
 * Backpressure: `write` returns `undefined` while the stream takes more, and
 * a promise when the stream's `write()` returned `false`, resolved on its
 * `drain`. An event is counted `written` once the stream has written it
 * (its write callback), `failed` when the stream reports an error; an error
 * never throws and never crashes the process.
 *
 * `flush()` waits for every write so far; `close()` flushes and closes the
 * file (a stream only when `end: true`; never `process.stdout` unless asked).
 *
 * @example
 * ```ts
 * const out = jsonOutput("/var/log/findings.ndjson");
 * for (const finding of findings) await out.write(finding);
 * await out.close();
 * ```
 */
export function jsonOutput(target: NodeJS.WritableStream | string, options: JsonOutputOptions = {}): EventOutput {
  const owned = typeof target === "string";
  const stream = owned ? openOutputFile(target, options.append === true) : target;
  const sink = new StreamSink(stream, owned || options.end === true, "jsonOutput", options.onError);
  return {
    write(event: TraceeEvent): void | Promise<void> {
      if (sink.closed) throw new Error("jsonOutput: write after close");
      return sink.write(`${encodeEventJson(event)}\n`);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
    stats: (): OutputStats => sink.stats(),
  };
}
