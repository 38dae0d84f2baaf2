/**
 * `Engine.run` with an abort signal holds nothing per event it has read: a
 * run over 200,000 fresh events from an async generator, in a process of its
 * own (fixtures/run-heap.ts) so its heap can be measured after a full GC
 * while the run is still reading. `tracee-ds run` always passes a signal.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const COUNT = 200_000;
const MARK = 10_000;
const MiB = 1024 * 1024;
/**
 * The most the heap may grow per event between the two measurements (5.8
 * MiB over 190,000 events). One retained event costs more on its own (the
 * event object alone is over 100 bytes). When each read raced the run's one
 * abort promise, every event stayed reachable from a reaction on it until
 * the run ended.
 */
const BYTES_PER_EVENT_BOUND = 32;

type Report = { early: number; late: number; processed: number } | { error: string };

function runInChild(): Promise<Report> {
  const child = fork(fileURLToPath(new URL("./fixtures/run-heap.ts", import.meta.url)), [String(COUNT), String(MARK)], {
    execArgv: ["--expose-gc", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise<Report>((resolve, reject) => {
    child.once("message", (report: Report) => {
      child.kill();
      resolve(report);
    });
    child.once("exit", () => reject(new Error("the run process exited without a report")));
  });
}

describe("Engine.run with a signal", () => {
  it(`reads ${COUNT.toLocaleString("en")} events without holding on to them`, { timeout: 120_000 }, async () => {
    const report = await runInChild();
    if ("error" in report) throw new Error(`the run failed: ${report.error}`);
    expect(report.processed).toBe(COUNT);
    const grown = report.late - report.early;
    expect(grown / MiB, `grew ${(grown / (COUNT - MARK)).toFixed(1)} bytes an event`).toBeLessThan(((COUNT - MARK) * BYTES_PER_EVENT_BOUND) / MiB);
  });
});
