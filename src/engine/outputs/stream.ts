/**
 * Writing lines to a stream with backpressure, counting, and opening a file
 * the way Tracee does: shared by the JSON and table outputs.
 *
 * @internal
 * @module
 */
import { createWriteStream, mkdirSync, openSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { finished } from "node:stream/promises";
import type { OutputErrorHandler, OutputStats } from "./types.js";

/** What a stream output writes to: any writable, maybe a terminal (`isTTY`, `columns`). */
export type OutputStream = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

/** Fields of a Node `Writable` that the plain `NodeJS.WritableStream` interface does not promise. */
interface MaybeWritable {
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
}

const isGone = (stream: NodeJS.WritableStream): boolean => {
  const s = stream as NodeJS.WritableStream & MaybeWritable;
  return s.destroyed === true || s.writableEnded === true || s.writable === false;
};

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Opens `path` for writing as Tracee's `--output json:PATH` does: the parent
 * directories are created (mode 0750), the file created with mode 0644 and
 * truncated, unless `append`. Opened synchronously, so a bad path throws
 * here (`EISDIR`, `EACCES`, …) rather than failing the first write. @internal
 */
export function openOutputFile(path: string, append: boolean): WriteStream {
  if (path === "") throw new TypeError("an output file needs a path");
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const flags = append ? "a" : "w";
  const fd = openSync(path, flags, 0o644);
  return createWriteStream(path, { fd, flags, autoClose: true });
}

/**
 * Lines to one stream: counts each write when the stream reports it done
 * (written) or failed; `write` returns a promise only when the stream asks
 * to wait (`write()` returned false), resolved on `drain` (or when the
 * stream is gone). Listens for the stream's errors, so one never crashes the
 * process; reports the first to `onError`. @internal
 */
export class StreamSink {
  #written = 0;
  #failed = 0;
  #pending = 0;
  #idle: (() => void)[] = [];
  #drain: Promise<void> | undefined;
  #wakeDrain: (() => void) | undefined;
  #reported = false;
  #closing: Promise<void> | undefined;
  readonly #onStreamError = (err: unknown) => this.#report(asError(err));

  constructor(
    readonly stream: NodeJS.WritableStream,
    /** End the stream on close (a file this output opened, or `end: true`). */
    readonly endOnClose: boolean,
    readonly name: string,
    readonly onError: OutputErrorHandler | undefined,
  ) {
    stream.on("error", this.#onStreamError);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  stats(): OutputStats {
    return { written: this.#written, failed: this.#failed };
  }

  #report(err: Error): void {
    if (this.#reported) return;
    this.#reported = true;
    try {
      this.onError?.(err, undefined);
    } catch {
      // A throwing handler must not break the output.
    }
  }

  #settled(): void {
    this.#pending--;
    if (this.#pending === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  write(text: string): void | Promise<void> {
    if (this.#closing !== undefined) throw new Error(`${this.name}: write after close`);
    if (isGone(this.stream)) {
      // Writing would only raise ERR_STREAM_WRITE_AFTER_END / DESTROYED.
      this.#failed++;
      this.#report(new Error(`${this.name}: the stream is closed`));
      return undefined;
    }
    this.#pending++;
    const ok = this.stream.write(text, (err?: Error | null) => {
      if (err === undefined || err === null) this.#written++;
      else {
        this.#failed++;
        this.#report(err);
      }
      this.#settled();
    });
    if (ok || isGone(this.stream)) return undefined;
    return this.#waitForDrain();
  }

  #waitForDrain(): Promise<void> {
    if (this.#drain !== undefined) return this.#drain;
    const stream = this.stream;
    this.#drain = new Promise<void>((resolve) => {
      const done = () => {
        stream.removeListener("drain", done);
        stream.removeListener("close", done);
        stream.removeListener("error", done);
        this.#drain = undefined;
        this.#wakeDrain = undefined;
        resolve();
      };
      this.#wakeDrain = done;
      stream.on("drain", done);
      stream.on("close", done);
      stream.on("error", done);
    });
    return this.#drain;
  }

  /** Resolves once every write so far has completed or failed (or the stream is gone). */
  flush(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const stream = this.stream;
      const done = () => {
        stream.removeListener("close", done);
        resolve();
      };
      stream.on("close", done);
      this.#idle.push(done);
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const stream = this.stream;
    try {
      if (this.endOnClose) {
        if (!isGone(stream)) stream.end();
        // Resolves once the last write is done and the file closed; an error was already reported.
        await finished(stream).catch(() => {});
      }
      await this.flush();
    } finally {
      this.#wakeDrain?.();
      stream.removeListener("error", this.#onStreamError);
      if (this.endOnClose) {
        // A late error from a stream we closed must still not crash the process.
        stream.on("error", () => {});
      }
    }
  }
}
