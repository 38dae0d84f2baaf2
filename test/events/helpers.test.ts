/**
 * The helpers a detector uses on an event: getData / getDataSafe (exact and
 * tolerant), eventData, the workload getters, the detection chain, and the
 * value constructors, on Tracee's own sample lines.
 */
import { readFileSync } from "node:fs";
import {
  decodeEventJson,
  eventData,
  type EventValue,
  getChainDepth,
  getContainerId,
  getContainerImageName,
  getContainerStarted,
  getData,
  getDataSafe,
  getDetectionChain,
  getK8sNamespaceName,
  getK8sPodName,
  getProcessEntityId,
  getProcessExecutablePath,
  getProcessHostPid,
  getProcessPid,
  getProcessRealUserId,
  getProcessThreadName,
  getProcessThreadSyscall,
  getRootDetection,
  isEventDataError,
  kindOf,
  newBytesValue,
  newInt32Value,
  newInt64Value,
  newStringValue,
  newUInt32Value,
  newUInt64Value,
  newValue,
  SaFamily,
  type SockAddr,
  type TraceeEvent,
} from "tracee-ds/events";
import { describe, expect, expectTypeOf, it } from "vitest";

const lines = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l !== "");
const byName = (name: string): TraceeEvent => {
  const line = lines.find((l) => l.includes(`"name":"${name}"`));
  if (line === undefined) throw new Error(`no sample ${name}`);
  return decodeEventJson(line);
};

describe("getData", () => {
  const open = byName("security_file_open");
  const connect = byName("security_socket_connect");

  it("returns the value typed by its kind", () => {
    const path = getData(open, "pathname", "str");
    expectTypeOf(path).toEqualTypeOf<string | undefined>();
    expect(path).toBe("/tmp/testing.txt");
    const inode = getData(open, "inode", "u_int64");
    expectTypeOf(inode).toEqualTypeOf<bigint | undefined>();
    expect(inode).toBe(1966101n);
    const addr = getData(connect, "remote_addr", "sockaddr");
    expectTypeOf(addr).toEqualTypeOf<SockAddr | undefined>();
    expect(addr).toMatchObject({ saFamily: SaFamily.AF_INET, sinAddr: "10.96.0.1", sinPort: 443 });
    const argv = getData(byName("execve"), "argv", "str_array");
    expectTypeOf(argv).toEqualTypeOf<string[] | undefined>();
    expect(argv).toEqual(["/opt/cni/bin/bridge"]);
  });

  it("is exact by default: another kind is undefined, as Go's GetData[T] says false", () => {
    expect(getData(open, "dev", "int32")).toBeUndefined(); // it is u_int32
    expect(getData(open, "missing", "str")).toBeUndefined();
  });

  it("tolerant: reads what decoded-data and fd-paths rewrote", () => {
    const event: TraceeEvent = {
      ...open,
      data: [
        newStringValue("fd", "3=/etc/passwd"),
        newStringValue("addr", "0x7ffe5cf3a8b0"),
        newStringValue("flags", "O_RDONLY|O_CLOEXEC"),
        newInt32Value("mode", 420),
        newValue("ptr", "pointer", 0xdeadbeefn),
        newUInt64Value("big", 2n ** 40n),
      ],
    };
    const tolerant = { tolerant: true } as const;
    expect(getData(event, "fd", "int32", tolerant)).toBe(3);
    expect(getData(event, "fd", "int32")).toBeUndefined();
    expect(getData(event, "addr", "pointer", tolerant)).toBe(0x7ffe5cf3a8b0n);
    expect(getData(event, "flags", "int32", tolerant)).toBeUndefined(); // names cannot be turned back
    expect(getData(event, "mode", "u_int64", tolerant)).toBe(420n);
    expect(getData(event, "mode", "str", tolerant)).toBe("420");
    expect(getData(event, "ptr", "str", tolerant)).toBe("0xdeadbeef");
    expect(getData(event, "big", "int32", tolerant)).toBeUndefined(); // out of int32's range
  });
});

describe("getDataSafe", () => {
  const open = byName("security_file_open");

  it("says why: not found, or the kind the argument holds", () => {
    const ok = getDataSafe(open, "flags", "str");
    expect(ok).toEqual({ ok: true, value: "O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE" });
    const missing = getDataSafe(open, "nope", "str");
    expect(missing.ok).toBe(false);
    if (!missing.ok) {
      expect(isEventDataError(missing.error)).toBe(true);
      expect(missing.error.code).toBe("not-found");
      expect(missing.error.message).toBe('field "nope" not found in event data');
    }
    const wrong = getDataSafe(open, "flags", "int32");
    expect(wrong.ok === false && wrong.error.message).toBe(
      'field "flags" holds str "O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE", not int32',
    );
  });
});

describe("eventData", () => {
  it("gives a plain record of every argument, unwrapped", () => {
    const data = eventData(byName("execve"));
    expect(data).toEqual({ pathname: "/opt/cni/bin/bridge", argv: ["/opt/cni/bin/bridge"], envp: [], returnValue: 0n });
  });

  it("never lets an argument named __proto__ change the prototype", () => {
    const data = eventData({ data: [newStringValue("__proto__", "x"), { name: "none" }] });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.keys(data)).toEqual(["__proto__", "none"]);
    expect(data["none"]).toBeNull();
  });
});

describe("workload getters", () => {
  it("read the sample events, with Go's zero values when absent", () => {
    const open = byName("security_file_open");
    expect([getProcessPid(open), getProcessHostPid(open), getProcessRealUserId(open)]).toEqual([2578238, 2578238, 1000]);
    expect([getProcessThreadName(open), getProcessThreadSyscall(open), getProcessEntityId(open)]).toEqual(["bash", "openat", 0]);
    expect([getContainerId(open), getContainerStarted(open), getK8sPodName(open)]).toEqual(["", false, ""]);
    const dropped = byName("dropped_executable");
    expect(getContainerImageName(dropped)).toBe("docker.io/library/ubuntu:latest");
    expect(getK8sNamespaceName(dropped)).toBe("default");
    expect(getProcessExecutablePath(byName("security_socket_connect"))).toBe("/usr/bin/kubectl");
  });
});

describe("detection chains", () => {
  it("walk detected_from to the root", () => {
    const anti = byName("anti_debugging");
    expect(getDetectionChain(anti).map((d) => d.name)).toEqual(["ptrace"]);
    expect(getChainDepth(anti)).toBe(1);
    const chained: TraceeEvent = {
      ...anti,
      detectedFrom: { id: 7600, name: "meta", data: [], parent: anti.detectedFrom },
    };
    expect(getDetectionChain(chained).map((d) => d.name)).toEqual(["meta", "ptrace"]);
    expect(getRootDetection(chained)?.name).toBe("ptrace");
    expect(getChainDepth(chained)).toBe(2);
    const plain = byName("close");
    expect([getDetectionChain(plain), getRootDetection(plain), getChainDepth(plain)]).toEqual([[], undefined, 0]);
  });
});

describe("value constructors", () => {
  it("build each kind, and getData reads back what newValue took", () => {
    const values: EventValue[] = [
      newValue("a", "str_array", ["x", "y"]),
      newValue("b", "u_int64_array", [1n, 2n ** 64n - 1n]),
      newValue("c", "timespec", 1.5),
      newValue("d", "struct", { k: [1, "v"] }),
      newBytesValue("e", new Uint8Array([1, 2, 3])),
    ];
    const event = { data: values };
    expect(getData(event, "a", "str_array")).toEqual(["x", "y"]);
    expect(getData(event, "b", "u_int64_array")).toEqual([1n, 2n ** 64n - 1n]);
    expect(getData(event, "c", "timespec")).toBe(1.5);
    expect(getData(event, "d", "struct")).toEqual({ k: [1, "v"] });
    expect([...(getData(event, "e", "bytes") ?? [])]).toEqual([1, 2, 3]);
    expect(values.map(kindOf)).toEqual(["str_array", "u_int64_array", "timespec", "struct", "bytes"]);
  });

  it("refuse integers out of their kind's range", () => {
    expect(() => newInt32Value("x", 2 ** 31)).toThrow(/^x: expected a 32-bit integer, got 2147483648$/);
    expect(() => newUInt32Value("x", -1)).toThrow(RangeError);
    expect(() => newInt64Value("x", 2n ** 63n)).toThrow(/out of range/);
    expect(() => newUInt64Value("x", 2 ** 60)).toThrow(/a bigint beyond 2\^53/);
    expect(newInt64Value("x", -5)).toEqual({ name: "x", int64: -5n });
  });
});
