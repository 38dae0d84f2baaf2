import { describe, expect, it } from "vitest";
import { DataSourceRegistry, ErrFailedToUnmarshal, ErrKeyNotSupported, errorIs, type Finding } from "tracee-ds";
import { ExcessiveFileOpens, processEvent } from "./signature.js";
import { ThresholdDataSource } from "./threshold-datasource.js";

function expectThrowsDetect(fn: () => unknown, target: unknown) {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "expected a throw").toBeDefined();
  expect(errorIs(thrown, target)).toBe(true);
}

describe("ThresholdDataSource (faithful port)", () => {
  it("answers the threshold key and refuses others with ErrKeyNotSupported", () => {
    const ds = new ThresholdDataSource();
    expect(ds.get("threshold")).toEqual({ threshold: 0 });
    expectThrowsDetect(() => ds.get("limit"), ErrKeyNotSupported);
    expectThrowsDetect(() => ds.get(5), ErrKeyNotSupported);
    expectThrowsDetect(() => ds.get({ threshold: true }), ErrKeyNotSupported);
  });

  it("stores a written number, truncating it the way Go's int(float64) does", () => {
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", 7]]));
    expect(ds.get("threshold")).toEqual({ threshold: 7 });
    ds.write(new Map([["threshold", 9.9]]));
    expect(ds.get("threshold")).toEqual({ threshold: 9 });
  });

  it.each([["seven"], [true], [null], [{ n: 1 }], [[1]], [Number.NaN], [Number.POSITIVE_INFINITY]])(
    "refuses %j with ErrFailedToUnmarshal and keeps the old value",
    (value) => {
      const ds = new ThresholdDataSource();
      ds.write(new Map([["threshold", 4]]));
      expectThrowsDetect(() => ds.write(new Map([["threshold", value as number]])), ErrFailedToUnmarshal);
      expect(ds.get("threshold")).toEqual({ threshold: 4 });
    },
  );

  it("refuses a write without the threshold key", () => {
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", 3]]));
    expectThrowsDetect(() => ds.write(new Map([["limit", 5]])), ErrFailedToUnmarshal);
    expect(ds.get("threshold")).toEqual({ threshold: 3 });
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
  function setup(threshold: number) {
    const registry = new DataSourceRegistry();
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", threshold]]));
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
    expect(findings[0]?.sigMetadata.id).toBe("TRC-DS-1");
    expect(findings[0]?.event.payload).toMatchObject({ hostProcessId: 3 });
  });

  it("follows a threshold written after init", () => {
    const { ds, findings, open } = setup(5);
    ds.write(new Map([["threshold", 2]]));
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

  it("fails init without the data source, or with a newer version than it knows", () => {
    const sig = new ExcessiveFileOpens();
    expect(() => sig.init(new DataSourceRegistry().context({ callback: () => {} }))).toThrow(
      "threshold data source not registered",
    );
    class V2 extends ThresholdDataSource {
      override version() {
        return 2;
      }
    }
    const registry = new DataSourceRegistry().register(new V2());
    expect(() => sig.init(registry.context({ callback: () => {} }))).toThrow("version not supported");
  });
});
