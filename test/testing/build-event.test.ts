/**
 * buildEvent fills an event the way Tracee fills one, and what it builds
 * prints as Tracee's JSON and reads back.
 */
import { decodeEventJson, encodeEventJson, EventId, getData, getProcessPid, getProcessThreadName } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";

describe("buildEvent", () => {
  it("gives Tracee's id for a known name, 0 for another, and what was asked for", () => {
    const open = buildEvent("security_file_open", {
      data: { pathname: "/etc/shadow", flags: 0, big: 2 ** 40, inode: 42n, delta: -3n, ok: true, argv: ["a"], raw: new Uint8Array([1]), extra: { k: 1 }, none: null },
      process: { pid: 7, comm: "cat" },
      timestamp: 1_700_000_000_123_456_789n,
    });
    expect(open.id).toBe(EventId.security_file_open);
    expect(buildEvent("my_detection").id).toBe(0);
    expect(open.timestamp).toEqual({ seconds: 1_700_000_000n, nanos: 123_456_789 });
    expect([getProcessPid(open), getProcessThreadName(open)]).toEqual([7, "cat"]);
    expect(getData(open, "pathname", "str")).toBe("/etc/shadow");
    expect(getData(open, "flags", "int32")).toBe(0);
    expect(getData(open, "big", "int64")).toBe(2n ** 40n);
    expect(getData(open, "inode", "u_int64")).toBe(42n);
    expect(getData(open, "delta", "int64")).toBe(-3n);
    expect(getData(open, "argv", "str_array")).toEqual(["a"]);
    expect(getData(open, "extra", "struct")).toEqual({ k: 1 });
    expect(open.data.find((v) => v.name === "none")).toEqual({ name: "none" });
    expect(decodeEventJson(encodeEventJson(open))).toEqual(open);
  });

  it("puts the event in a started container when given one", () => {
    const e = buildEvent("sched_process_exec", { container: { id: "abc" } });
    expect(e.workload?.container).toEqual({ id: "abc", name: "", image: undefined, started: true });
  });

  it("refuses a fractional number, which has no kind of its own", () => {
    expect(() => buildEvent("x", { data: { f: 1.5 } })).toThrow(/data\.f: 1\.5 is not an integer/);
  });
});
