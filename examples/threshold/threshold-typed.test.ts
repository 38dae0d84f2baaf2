import { describe, expect, expectTypeOf, it } from "vitest";
import {
  DataSourceRegistry,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  errorIs,
  isCodecError,
  type Finding,
} from "tracee-ds";
import { thrown } from "../../test/support/errors.js";
import { ExcessiveFileOpens, processEvent } from "./signature.js";
import { ThresholdRef, createThresholdDataSource } from "./threshold-typed.js";

function expectThrowsDetect(fn: () => unknown, target: unknown) {
  expect(errorIs(thrown(fn), target)).toBe(true);
}

describe("threshold data source, typed (defineWritableDataSource)", () => {
  it("answers the threshold key and refuses others with ErrKeyNotSupported", () => {
    const ds = createThresholdDataSource(1);
    expect(ds.get("threshold")).toEqual({ threshold: 1 });
    expectThrowsDetect(() => ds.get("limit" as "threshold"), ErrKeyNotSupported);
    expectThrowsDetect(() => ds.get(5 as unknown as "threshold"), ErrKeyNotSupported);
    expectThrowsDetect(() => ds.get({ threshold: true } as unknown as "threshold"), ErrKeyNotSupported);
    expect(thrown(() => ds.get("limit" as "threshold")).message).toBe(
      'key "limit" is not supported: expected "threshold", got "limit"',
    );
  });

  it("answers ErrDataNotFound before the first write (the port answers Go's zero value, 0)", () => {
    const ds = createThresholdDataSource();
    expect(thrown(() => ds.get("threshold"))).toBe(ErrDataNotFound);
    ds.write(new Map([["threshold", 3]]));
    expect(ds.get("threshold")).toEqual({ threshold: 3 });
  });

  it("stores a written integer as is", () => {
    const ds = createThresholdDataSource();
    ds.write(new Map([["threshold", 7]]));
    expect(ds.get("threshold")).toEqual({ threshold: 7 });
    ds.write(new Map([["threshold", 9]]));
    expect(ds.get("threshold")).toEqual({ threshold: 9 });
  });

  it.each([
    [9.9, "threshold: expected an integer, got 9.9"],
    [5.5, "threshold: expected an integer, got 5.5"],
    [0, "threshold: expected an integer >= 1, got 0"],
    [-3, "threshold: expected an integer >= 1, got -3"],
    ["seven", 'threshold: expected an integer, got "seven"'],
    [true, "threshold: expected an integer, got true"],
    [null, "threshold: expected an integer, got null"],
    [{ n: 1 }, "threshold: expected an integer, got an object"],
    [[1], "threshold: expected an integer, got a list"],
    [Number.NaN, "threshold: expected an integer, got NaN"],
    [Number.POSITIVE_INFINITY, "threshold: expected an integer, got Infinity"],
  ])("refuses %j with ErrFailedToUnmarshal, says why, and keeps the old value", (value, message) => {
    const ds = createThresholdDataSource(4);
    const err = thrown(() => ds.write(new Map([["threshold", value]])));
    expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
    expect(isCodecError(err)).toBe(true);
    expect(err.message).toBe(message);
    expect(ds.get("threshold")).toEqual({ threshold: 4 });
  });

  it("refuses a write naming another key, with ErrKeyNotSupported (the port says ErrFailedToUnmarshal)", () => {
    const ds = createThresholdDataSource(3);
    const err = thrown(() => ds.write(new Map([["limit", 5]])));
    expect(errorIs(err, ErrKeyNotSupported)).toBe(true);
    expect(ds.get("threshold")).toEqual({ threshold: 3 });
  });

  it("describes itself as the port does: keys, schema and values come from the schemas", () => {
    const ds = createThresholdDataSource();
    expect([ds.namespace(), ds.id(), ds.version()]).toEqual(["my_namespace", "threshold_datasource", 1]);
    expect(ds.keys()).toEqual(['string:"threshold"']);
    expect(JSON.parse(ds.schema())).toEqual({ threshold: "int" });
    expect(ds.values()).toEqual(["int"]);
  });

  it("is found through its typed reference, with its type", () => {
    const ds = createThresholdDataSource(2);
    const ctx = new DataSourceRegistry().register(ds).context({ callback: () => {} });
    const found = ctx.getDataSource(ThresholdRef);
    expect(found).toBe(ds);
    expectTypeOf(found?.get("threshold")).toEqualTypeOf<{ readonly threshold: number } | undefined>();
  });
});

describe("ExcessiveFileOpens signature, with the typed data source", () => {
  function setup(threshold: number) {
    const registry = new DataSourceRegistry();
    const ds = createThresholdDataSource(threshold);
    registry.register(ds);
    const findings: Finding[] = [];
    const sig = new ExcessiveFileOpens();
    sig.init(registry.context({ callback: (f) => findings.push(f) }));
    const open = (pid: number, times: number) => {
      for (let i = 0; i < times; i++) {
        sig.onEvent(processEvent({ eventName: "security_file_open", hostProcessId: pid, processName: `p${pid}` }));
      }
    };
    return { ds, sig, findings, open };
  }

  it("reports nothing below or at the threshold", () => {
    const { findings, open } = setup(5);
    open(1, 4);
    open(2, 5);
    expect(findings).toEqual([]);
  });

  it("reports a process once when it goes above the threshold", () => {
    const { findings, open } = setup(5);
    open(3, 6);
    open(3, 10);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.data).toEqual({ processName: "p3", pid: 3, opens: 6, threshold: 5 });
  });

  it("follows a threshold written after init, and ignores a refused one", () => {
    const { ds, findings, open } = setup(5);
    ds.write(new Map([["threshold", 2]]));
    expect(() => ds.write(new Map([["threshold", 1.5]]))).toThrow();
    open(4, 3);
    expect(findings.map((f) => f.data["threshold"])).toEqual([2]);
  });

  it("forgets a process when it exits", () => {
    const { sig, findings, open } = setup(1);
    open(5, 2);
    sig.onEvent(processEvent({ eventName: "sched_process_exit", hostProcessId: 5, processName: "p5" }));
    open(5, 2);
    expect(findings).toHaveLength(2);
  });
});
