/**
 * The threshold example, tested with tracee-ds/testing the way
 * docs/testing.md teaches: the data source against the contract checker, the
 * signature in a SignatureHarness with a fake data source standing in.
 */
import { describe, expect, it } from "vitest";
import { ErrFailedToUnmarshal, errorIs } from "tracee-ds";
import { checkDataSource, fakeDataSource, fakeWritableDataSource, SignatureHarness, traceeEvent } from "tracee-ds/testing";
import { ExcessiveFileOpens, type ProcessEvent } from "./signature.js";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE, ThresholdDataSource } from "./threshold-datasource.js";
import { createThresholdDataSource } from "./threshold-typed.js";

describe("ThresholdDataSource (faithful port)", () => {
  it("keeps the data source contract", async () => {
    const violations = await checkDataSource(new ThresholdDataSource(), {
      // It answers only "threshold"; any other key, of any kind, is ErrKeyNotSupported.
      validKeys: ["threshold"],
      badKeys: ["limit", 5, { threshold: true }],
      goodWrites: [{ threshold: 7 }],
      // Each bad write must throw ErrFailedToUnmarshal (or ErrKeyNotSupported)
      // and leave get("threshold") as it was.
      badWrites: [
        { threshold: "seven" },
        { threshold: true },
        { threshold: null },
        { threshold: { n: 1 } },
        { threshold: [1] },
        new Map([["threshold", Number.NaN]]),
        new Map([["threshold", Number.POSITIVE_INFINITY]]),
        { limit: 5 },
      ],
    });
    expect(violations).toEqual([]);
  });

  it("answers 0, Go's zero value, before any write", () => {
    expect(new ThresholdDataSource().get("threshold")).toEqual({ threshold: 0 });
  });

  it("stores a written number, truncating it the way Go's int(float64) does", () => {
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", 7]]));
    expect(ds.get("threshold")).toEqual({ threshold: 7 });
    ds.write(new Map([["threshold", 9.9]]));
    expect(ds.get("threshold")).toEqual({ threshold: 9 });
  });

  it("refuses a bad value with ErrFailedToUnmarshal and keeps the old value", () => {
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", 4]]));
    let thrown: unknown;
    try {
      ds.write(new Map([["threshold", "seven"]]));
    } catch (err) {
      thrown = err;
    }
    expect(errorIs(thrown, ErrFailedToUnmarshal)).toBe(true);
    expect(ds.get("threshold")).toEqual({ threshold: 4 });
  });

  it("describes itself as the docs do, with the value type fixed to int", () => {
    const ds = new ThresholdDataSource();
    expect([ds.namespace(), ds.id(), ds.version()]).toEqual(["my_namespace", "threshold_datasource", 1]);
    expect(ds.keys()).toEqual(['string:"threshold"']);
    expect(JSON.parse(ds.schema())).toEqual({ threshold: "int" });
    expect(ds.values()).toEqual(["int"]);
  });
});

describe("ExcessiveFileOpens signature", () => {
  // A fake stands in for the threshold data source: the signature's tests do
  // not depend on how the real one parses writes.
  const thresholdOf = (threshold: number, version = 1) =>
    fakeDataSource({
      namespace: THRESHOLD_NAMESPACE,
      id: THRESHOLD_ID,
      version,
      data: { threshold: { threshold } },
    });

  const open = (pid: number) =>
    traceeEvent<ProcessEvent>("security_file_open", {
      eventName: "security_file_open",
      hostProcessId: pid,
      processName: `p${pid}`,
    });
  const exit = (pid: number) =>
    traceeEvent<ProcessEvent>("sched_process_exit", {
      eventName: "sched_process_exit",
      hostProcessId: pid,
      processName: `p${pid}`,
    });
  const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);

  it("reports nothing below or at the threshold", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [thresholdOf(5)] });
    await harness.deliver(...times(4, () => open(1)), ...times(5, () => open(2)));
    expect(harness.findings).toEqual([]);
  });

  it("reports a process once when it goes above the threshold", async () => {
    const threshold = thresholdOf(5);
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [threshold] });
    const found = await harness.deliver(...times(6, () => open(3)));
    await harness.deliver(...times(10, () => open(3)));
    expect(found).toHaveLength(1);
    expect(harness.findings).toEqual(found);
    expect(found[0]?.data).toEqual({ processName: "p3", pid: 3, opens: 6, threshold: 5 });
    expect(found[0]?.sigMetadata.id).toBe("TRC-DS-1");
    expect(found[0]?.event.payload).toMatchObject({ hostProcessId: 3 });
    // It reads the threshold on every file open, so a new one takes effect at once.
    expect(threshold.gets).toHaveLength(16);
  });

  it("follows a threshold written after init", async () => {
    const threshold = fakeWritableDataSource({
      namespace: THRESHOLD_NAMESPACE,
      id: THRESHOLD_ID,
      data: { threshold: { threshold: 5 } },
    });
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [threshold] });
    await harness.init();
    threshold.write(new Map([["threshold", { threshold: 2 }]]));
    await harness.deliver(open(4), open(4), open(4));
    expect(harness.findings.map((f) => f.data["threshold"])).toEqual([2]);
  });

  it("follows the real data source too", async () => {
    const ds = new ThresholdDataSource();
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [ds] });
    ds.write(new Map([["threshold", 2]]));
    const found = await harness.deliver(open(4), open(4), open(4));
    expect(found.map((f) => f.data["threshold"])).toEqual([2]);
  });

  it("works with the typed data source too", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [createThresholdDataSource(2)] });
    const found = await harness.deliver(open(4), open(4), open(4));
    expect(found.map((f) => f.data["threshold"])).toEqual([2]);
  });

  it("forgets a process when it exits", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [thresholdOf(1)] });
    await harness.deliver(open(5), open(5), exit(5), open(5), open(5));
    expect(harness.findings).toHaveLength(2);
  });

  it("ignores events it did not select", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [thresholdOf(0)] });
    const other = traceeEvent<ProcessEvent>("security_file_open", open(6).payload, { source: "k8s" });
    await harness.deliver(other);
    expect(harness.skipped).toEqual([other]);
    expect(harness.findings).toEqual([]);
  });

  it("fails init without the data source", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens());
    await expect(harness.init()).rejects.toMatchObject({
      phase: "init",
      cause: new Error("threshold data source not registered"),
    });
  });

  it("fails init with a newer version than it knows", async () => {
    const harness = new SignatureHarness(new ExcessiveFileOpens(), { dataSources: [thresholdOf(5, 2)] });
    await expect(harness.init()).rejects.toThrow(/init failed: threshold data source version not supported/);
  });
});
