import type { Readable, Writable } from "node:stream";

/** Where a command reads and writes; the real process in main.ts, buffers in tests. @internal */
export interface CliIo {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
  readonly cwd: string;
  /** Starts listening for SIGINT/SIGTERM; resolves with the signal's name. */
  readonly waitForStop: () => Promise<string>;
}

/** Writes one line. @internal */
export const println = (out: Writable, line = ""): void => {
  out.write(`${line}\n`);
};
