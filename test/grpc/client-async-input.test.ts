/**
 * `DataSourceClient.writeStream` from an async source holds nothing per entry
 * it has sent: a stream of 200,000 entries from an async generator, with the
 * client in a process of its own (fixtures/stream-client.ts) so its heap can
 * be measured after a full GC while the stream is still open.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DataSourceRegistry } from "tracee-ds";
import { describe, expect, it } from "vitest";
import { RecordingDataSource, serve, trackServer, TRANSPORTS } from "./helpers.js";

const COUNT = 200_000;
/** Where the first measurement is taken: past the stream's start, so only per-entry growth lies between the two. */
const MARK = 10_000;
const MiB = 1024 * 1024;
/**
 * The most the client's heap may grow per entry between the two
 * measurements (5.8 MiB over the 190,000 entries between them). One retained
 * entry costs more than this on its own: the `WriteRequest` object (a header
 * and four fields, 56 bytes on 64-bit Node) and its key string. Measured with
 * Node 20: the client grows 1.3 MiB (7 bytes an entry) over both transports,
 * a constant of the transport's buffers, not a cost per entry (1.6 MiB with
 * 50,000 entries, 1.0 MiB with 400,000). When each wait for the next entry
 * raced the stream's one long-lived "stopped" promise, it kept a reaction, a
 * promise and the entry for every entry: 79.6 MiB (439 bytes an entry).
 */
const BYTES_PER_ENTRY_BOUND = 32;

type Report = { early: number; late: number } | { error: string };

/** Runs fixtures/stream-client.ts against `address`; resolves with its report. */
function streamFromChild(address: string): Promise<Report> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./fixtures/stream-client.ts", import.meta.url)),
    [address, String(COUNT), String(MARK)],
    { execArgv: ["--expose-gc", "--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  trackServer({
    close: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  });
  return new Promise<Report>((resolve, reject) => {
    child.once("message", (report: Report) => resolve(report));
    void exited.then(() => reject(new Error("the client process exited without a report")));
  });
}

describe.each(TRANSPORTS)("writeStream from an async generator, %s", (transport) => {
  it(`${COUNT.toLocaleString("en")} entries: the client's heap does not grow with the entries sent, and all arrive in one write`, { timeout: 120_000 }, async () => {
    const ds = new RecordingDataSource();
    const server = await serve(new DataSourceRegistry().register(ds), transport);

    const report = await streamFromChild(server.address);
    if ("error" in report) throw new Error(`the stream failed: ${report.error}`);

    expect(ds.writes.map((w) => w.size)).toEqual([1, COUNT]);
    expect(ds.store.get(`k${COUNT - 1}`)).toBe(COUNT - 1);
    const grown = report.late - report.early;
    const bound = (COUNT - MARK) * BYTES_PER_ENTRY_BOUND;
    expect(grown / MiB, `grew ${(grown / (COUNT - MARK)).toFixed(1)} bytes an entry`).toBeLessThan(bound / MiB);
  });
});
