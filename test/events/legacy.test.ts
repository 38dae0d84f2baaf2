// The legacy trace.Event JSON: every line of the fixture decodes, converts to
// the v1beta1 model with the facts Tracee's conversion gives it, comes back
// with what the docs promise, and malformed lines name the bad field.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  decodeLegacyEventJson,
  eventToLegacy,
  isLegacyEventJsonError,
  type LegacyEvent,
  LegacyEventJsonError,
  type LegacyJsonValue,
  legacyOrigin,
  legacySignatureEvent,
  legacyToEvent,
} from "../../src/events/legacy/index.js";
import { EventId, kindOf, Severity, type TraceeEvent } from "../../src/events/model.js";
import { selectorsMatch } from "../../src/testing/events.js";
import { thrown } from "../support/errors.js";

const LINES = readFileSync(new URL("../fixtures/events/legacy.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const legacy = (i: number): LegacyEvent => decodeLegacyEventJson(LINES[i]!);
const converted = (i: number): TraceeEvent => legacyToEvent(legacy(i));
const kinds = (e: TraceeEvent) => e.data.map((d) => [d.name, kindOf(d)]);

/** What a line must convert to: the key facts, checked one line at a time. */
interface Golden {
  readonly name: string;
  readonly id: number;
  readonly seconds: bigint;
  readonly nanos: number;
  readonly hostPid: number;
  readonly pid: number;
  readonly hostTid: number;
  readonly tid: number;
  readonly container?: { id: string; started: boolean; name: string; image: string };
  readonly kinds: Array<[string, string | undefined]>;
  readonly origin: "host" | "container" | "container-init";
}

const GOLDEN: readonly Golden[] = [
  {
    name: "New executable dropped",
    id: 6029,
    seconds: 1677676197n,
    nanos: 900822209,
    hostPid: 4741,
    pid: 441,
    hostTid: 4741,
    tid: 441,
    container: {
      id: "ae95a93ce0c2f1b824ac4b205e4d1a3c8f724d663626c1ad23576efec64318de",
      started: true,
      name: "app",
      image: "docker.io/library/ubuntu:latest",
    },
    kinds: [["path", "str"]],
    origin: "container",
  },
  {
    name: "net_packet_tcp",
    id: EventId.net_packet_tcp,
    seconds: 1696255674n,
    nanos: 450496178,
    hostPid: 1014858,
    pid: 1014858,
    hostTid: 1014989,
    tid: 1014989,
    kinds: [
      ["src", "str"],
      ["dst", "str"],
      ["src_port", "u_int32"],
      ["dst_port", "u_int32"],
      ["proto_tcp", "tcp"],
    ],
    origin: "host",
  },
  {
    name: "net_packet_dns",
    id: EventId.net_packet_dns,
    seconds: 1696255744n,
    nanos: 257383842,
    hostPid: 472,
    pid: 472,
    hostTid: 472,
    tid: 472,
    kinds: [
      ["src", "str"],
      ["dst", "str"],
      ["src_port", "u_int32"],
      ["dst_port", "u_int32"],
      ["proto_dns", "dns"],
    ],
    origin: "host",
  },
  {
    name: "mine",
    id: 6030,
    seconds: 1680191445n,
    nanos: 996958642,
    hostPid: 329031,
    pid: 329031,
    hostTid: 329031,
    tid: 329031,
    kinds: [],
    origin: "host",
  },
  {
    name: "security_file_open",
    id: EventId.security_file_open,
    seconds: 1657321167n,
    nanos: 356748797,
    hostPid: 2578238,
    pid: 2578238,
    hostTid: 2578238,
    tid: 2578238,
    kinds: [
      ["pathname", "str"],
      ["flags", "str"],
      ["dev", "u_int32"],
      ["inode", "u_int64"],
      ["ctime", "u_int64"],
      ["syscall_pathname", "str"],
    ],
    origin: "host",
  },
  {
    name: "openat",
    id: EventId.openat,
    seconds: 1657321167n,
    nanos: 356729582,
    hostPid: 2578238,
    pid: 2578238,
    hostTid: 2578238,
    tid: 2578238,
    kinds: [
      ["dirfd", "int32"],
      ["pathname", "str"],
      ["flags", "str"],
      ["mode", "u_int32"],
      ["returnValue", "int64"],
    ],
    origin: "host",
  },
  {
    name: "clone",
    id: EventId.clone,
    seconds: 1657322300n,
    nanos: 531713371,
    hostPid: 2578238,
    pid: 2578238,
    hostTid: 2578238,
    tid: 2578238,
    kinds: [
      ["flags", "str"],
      ["stack", "str"],
      ["parent_tid", "str"],
      ["child_tid", "str"],
      ["tls", "u_int64"],
      ["returnValue", "int64"],
    ],
    origin: "host",
  },
  {
    name: "execve",
    id: EventId.execve,
    seconds: 1684688250n,
    nanos: 477166817,
    hostPid: 3242201,
    pid: 35694,
    hostTid: 3242201,
    tid: 35694,
    kinds: [
      ["pathname", "str"],
      ["argv", "str_array"],
      ["envp", "str_array"],
      ["returnValue", "int64"],
    ],
    origin: "host",
  },
  {
    name: "Anti-Debugging detected",
    id: 6018,
    seconds: 1680119087n,
    nanos: 787203746,
    hostPid: 95599,
    pid: 95599,
    hostTid: 95599,
    tid: 95599,
    kinds: [],
    origin: "host",
  },
  {
    name: "net_packet_dns_request",
    id: EventId.net_packet_dns_request,
    seconds: 1696255905n,
    nanos: 516744399,
    hostPid: 472,
    pid: 472,
    hostTid: 472,
    tid: 472,
    kinds: [
      ["metadata", "packet_metadata"],
      ["dns_questions", "dns_questions"],
    ],
    origin: "host",
  },
  {
    name: "net_packet_http_request",
    id: EventId.net_packet_http_request,
    seconds: 1696259155n,
    nanos: 542061071,
    hostPid: 1055252,
    pid: 1055252,
    hostTid: 1055252,
    tid: 1055252,
    kinds: [
      ["metadata", "packet_metadata"],
      ["http_request", "http_request"],
    ],
    origin: "host",
  },
  {
    name: "net_packet_icmp",
    id: EventId.net_packet_icmp,
    seconds: 1696270181n,
    nanos: 814910395,
    hostPid: 1094692,
    pid: 1094692,
    hostTid: 1094692,
    tid: 1094692,
    kinds: [
      ["src", "str"],
      ["dst", "str"],
      ["proto_icmp", "icmp"],
    ],
    origin: "host",
  },
  {
    name: "net_packet_ipv4",
    id: EventId.net_packet_ipv4,
    seconds: 1696271464n,
    nanos: 3181761,
    hostPid: 1103574,
    pid: 1103574,
    hostTid: 1103574,
    tid: 1103574,
    kinds: [
      ["src", "str"],
      ["dst", "str"],
      ["proto_ipv4", "ipv4"],
    ],
    origin: "host",
  },
  {
    name: "openat",
    id: EventId.openat,
    seconds: 1657290245n,
    nanos: 20855990,
    hostPid: 1664936,
    pid: 1664936,
    hostTid: 1664936,
    tid: 1664936,
    kinds: [
      ["dirfd", "int32"],
      ["pathname", "str"],
      ["flags", "int32"],
      ["mode", "u_int32"],
      ["returnValue", "int64"],
    ],
    origin: "host",
  },
];

describe("the legacy fixture", () => {
  it("has the 14 lines the golden table describes", () => {
    expect(LINES).toHaveLength(14);
    expect(GOLDEN).toHaveLength(LINES.length);
  });

  it.each(LINES.map((line, i) => [i, line] as const))("line %i decodes", (_i, line) => {
    const event = decodeLegacyEventJson(line);
    expect(typeof event.timestamp).toBe("bigint");
    expect(event.eventName).not.toBe("");
    expect(event.args.length).toBeGreaterThanOrEqual(0);
  });

  it.each(GOLDEN.map((g, i) => [i, g.name, g] as const))("line %i (%s) converts to its key facts", (i, _name, g) => {
    const event = converted(i);
    expect(event.name).toBe(g.name);
    expect(event.id).toBe(g.id);
    expect(event.timestamp).toEqual({ seconds: g.seconds, nanos: g.nanos });
    const process = event.workload?.process;
    expect(process?.hostPid).toBe(g.hostPid);
    expect(process?.pid).toBe(g.pid);
    expect(process?.thread?.hostTid).toBe(g.hostTid);
    expect(process?.thread?.tid).toBe(g.tid);
    const container = event.workload?.container;
    if (g.container === undefined) expect(container).toBeUndefined();
    else {
      expect(container).toMatchObject({ id: g.container.id, started: g.container.started, name: g.container.name });
      expect(container?.image?.name).toBe(g.container.image);
    }
    expect(kinds(event)).toEqual(g.kinds);
    expect(legacyOrigin(legacy(i))).toBe(g.origin);
    expect(legacySignatureEvent(legacy(i)).headers.selector).toEqual({ source: "tracee", name: g.name, origin: g.origin });
  });
});

describe("64-bit integers", () => {
  it("keeps the nanosecond timestamp exactly, which JSON.parse would round", () => {
    const line = LINES[0]!;
    expect(decodeLegacyEventJson(line).timestamp).toBe(1677676197900822209n);
    expect(BigInt((JSON.parse(line) as { timestamp: number }).timestamp)).not.toBe(1677676197900822209n);
    expect(converted(0).timestamp).toEqual({ seconds: 1677676197n, nanos: 900822209 });
    expect(eventToLegacy(converted(0)).timestamp).toBe(1677676197900822209n);
  });

  it("keeps a 64-bit argument exactly: security_file_open's ctime", () => {
    const ctime = legacy(4).args.find((a) => a.name === "ctime");
    expect(ctime).toEqual({ name: "ctime", type: "unsigned long", value: 1657321027326584850n });
    expect(converted(4).data.find((d) => d.name === "ctime")).toEqual({ name: "ctime", uInt64: 1657321027326584850n });
  });

  it("types the 64-bit fields as bigint and the 32-bit ones as number", () => {
    const e = legacy(1);
    expect(e.threadStartTime).toBe(1696249856019516599n);
    expect(e.cgroupId).toBe(5650n);
    expect(e.stackAddresses).toEqual([0n]);
    expect(e.mountNamespace).toBe(4026531841);
    expect(e.threadEntityId).toBe(3489249124);
    expect(e.returnValue).toBe(0);
  });

  it("reads thread start times before and after the epoch switch", () => {
    // Older versions printed the time since boot, newer ones since the epoch; both convert as they are.
    expect(converted(4).workload?.process?.thread?.startTime).toEqual({ seconds: 620311n, nanos: 624458929 });
    expect(converted(1).workload?.process?.thread?.startTime).toEqual({ seconds: 1696249856n, nanos: 19516599 });
  });
});

describe("decoding both layouts", () => {
  it("moves the older top-level container and pod fields into container{} and kubernetes{}", () => {
    const e = legacy(0);
    expect(e.containerId).toBe("ae95a93ce0c2f1b824ac4b205e4d1a3c8f724d663626c1ad23576efec64318de");
    expect(e.container).toEqual({
      id: "ae95a93ce0c2f1b824ac4b205e4d1a3c8f724d663626c1ad23576efec64318de",
      name: "app",
      image: "docker.io/library/ubuntu:latest",
      imageDigest: "",
    });
    expect(e.kubernetes).toEqual({
      podName: "app-75ff449bcd-hfwnz",
      podNamespace: "default",
      podUID: "0f7ad251-39da-44f7-af28-34a0e971be3e",
      podSandbox: false,
    });
    expect(converted(0).workload?.k8s).toEqual({
      pod: { name: "app-75ff449bcd-hfwnz", uid: "0f7ad251-39da-44f7-af28-34a0e971be3e", labels: {} },
      namespace: { name: "default" },
    });
  });

  it("reads the newer layout, and fills what a line lacks with Go's zero values", () => {
    const e = legacy(3); // container{} and kubernetes{} empty, no containerId, no executable
    expect(e.containerId).toBe("");
    expect(e.container).toEqual({ id: "", name: "", image: "", imageDigest: "" });
    expect(e.executable).toEqual({ path: "" });
    expect(e.threadEntityId).toBe(0);
    expect(legacy(4).matchedPolicies).toEqual([]); // before policies existed
    expect(legacy(7).args.find((a) => a.name === "envp")?.value).toBeNull();
  });

  it("prefers container{} over the top-level fields and takes a bare-number eventId", () => {
    const e = decodeLegacyEventJson(
      '{"timestamp":1,"eventId":59,"eventName":"execve","containerId":"","container":{"id":"abc","name":"web"},' +
        '"containerImage":"nginx","kubernetes":{"podName":"p"},"podNamespace":"ns"}',
    );
    expect(e.eventId).toBe("59");
    expect(e.containerId).toBe("abc");
    expect(e.container).toEqual({ id: "abc", name: "web", image: "nginx", imageDigest: "" });
    expect(e.kubernetes).toMatchObject({ podName: "p", podNamespace: "ns" });
    expect(legacyOrigin(e)).toBe("container-init");
  });

  it("ignores unknown keys and reads null as the zero value", () => {
    const e = decodeLegacyEventJson(
      '{"timestamp":5,"eventId":"1","eventName":"write","matchedScopes":1,"somethingNew":{"x":[1]},"args":null,"stackAddresses":null,"processName":null,"metadata":null}',
    );
    expect(e).toMatchObject({ args: [], stackAddresses: [], processName: "", eventId: "1" });
    expect("metadata" in e).toBe(false);
  });
});

describe("conversion to the v1beta1 event, as Tracee's conversion.go does it", () => {
  it("translates a built-in event's internal id by name and keeps signature ids", () => {
    expect(converted(5).id).toBe(258); // openat: internal 257 (x86_64 syscall number), v1beta1 258
    expect(converted(4).id).toBe(1032); // security_file_open was 722 in 2022, 1032 in the enum
    expect(converted(8).id).toBe(6018); // a signature keeps its id
    const unknown = decodeLegacyEventJson('{"timestamp":1,"eventId":"1500","eventName":"not_in_the_enum"}');
    expect(legacyToEvent(unknown).id).toBe(1500);
  });

  it("builds the process, its parent (only with a parent entity id), and the stack", () => {
    const e = converted(1);
    expect(e.workload?.process).toEqual({
      uniqueId: 3999221038,
      hostPid: 1014858,
      pid: 1014858,
      realUser: { id: 1000 },
      thread: {
        startTime: { seconds: 1696249856n, nanos: 19516599 },
        name: "vlc",
        uniqueId: 3489249124,
        hostTid: 1014989,
        tid: 1014989,
        syscall: "recvmsg",
        compat: false,
        userStackTrace: { addresses: [{ address: 0n, symbol: "" }] },
      },
      ancestors: [{ uniqueId: 3069802613, hostPid: 1729, pid: 1729, ancestors: [] }],
    });
    expect(e.policies).toEqual({ matched: [""] });
    // No parentEntityId in 2022's JSON: Tracee leaves ancestors empty.
    expect(converted(4).workload?.process?.ancestors).toEqual([]);
  });

  it("turns a finding's metadata with a Severity into a threat, and one without into nothing", () => {
    expect(converted(0).threat).toEqual({
      description:
        "An Executable file was dropped in the system during runtime. Container images are usually built with all binaries needed inside. A dropped binary may indicate that an adversary infiltrated your container.",
      mitre: { tactic: { name: "defense-evasion" }, technique: { id: "T1036", name: "Masquerading" } },
      severity: Severity.MEDIUM,
      name: "New executable dropped",
      properties: {
        Kubernetes_Technique: "",
        id: "attack-pattern--42e8de7b-37b2-4258-905a-6897815e58e0",
        signatureID: "TRC-1022",
      },
    });
    expect(converted(8).threat?.severity).toBe(Severity.LOW);
    expect(converted(3).threat).toBeUndefined(); // no Severity: not a threat
  });

  it("prints non-string properties the way Go's fmt.Sprint does", () => {
    const e = decodeLegacyEventJson(
      JSON.stringify({
        timestamp: 1,
        eventId: "6000",
        eventName: "sig",
        metadata: {
          Properties: { Severity: 9, n: 3, f: 1000000.5, big: 1e6 + 0.25, list: ["a", 1, true], map: { b: "x", a: 1 }, nil: null },
        },
      }),
    );
    expect(legacyToEvent(e).threat).toMatchObject({
      severity: Severity.INFO, // out of range: INFO, as getSeverity gives it
      properties: { n: "3", f: "1.0000005e+06", big: "1.00000025e+06", list: "[a 1 true]", map: "map[a:1 b:x]", nil: "<nil>" },
    });
  });

  it("adds returnValue as Tracee's definitions do", () => {
    const rv = (e: TraceeEvent) => e.data.find((d) => d.name === "returnValue");
    expect(rv(converted(7))).toEqual({ name: "returnValue", int64: 0n }); // a syscall: always, even 0
    expect(rv(converted(4))).toBeUndefined(); // not a syscall, 0
    expect(rv(converted(0))).toBeUndefined(); // a finding: its returnValue is the source event's
    const vfsRead = decodeLegacyEventJson('{"timestamp":1,"eventId":"1022","eventName":"vfs_read","returnValue":17}');
    expect(rv(legacyToEvent(vfsRead))).toEqual({ name: "returnValue", int64: 17n }); // not a syscall, not 0
    const newer = decodeLegacyEventJson(
      '{"timestamp":1,"eventId":"3","eventName":"close","returnValue":0,"args":[{"name":"fd","type":"int32","value":3},{"name":"returnValue","type":"int64","value":-9}]}',
    );
    expect(legacyToEvent(newer).data).toEqual([
      { name: "fd", int32: 3 },
      { name: "returnValue", int64: -9n },
    ]);
  });

  it("reads every kind of argument value in the fixture", () => {
    const tcp = converted(1).data[4]?.tcp;
    expect(tcp).toMatchObject({ srcPort: 40020, dstPort: 80, seq: 4173220235, ack: 2867625954, ackFlag: 1, window: 2766 });
    const dns = converted(2).data[4]?.dns;
    expect(dns?.answers[0]).toMatchObject({ name: "www.zip.net", type: "CNAME", ttl: 300, cname: "amazonas.uol.com.br", txts: [] });
    expect(dns?.authorities[0]?.soa).toEqual({
      mname: "a10-dns-uolcsfe1.host.intranet",
      rname: "root.uol.com.br",
      serial: 2016052887,
      refresh: 7200,
      retry: 3600,
      expire: 432000,
      minimum: 900,
    });
    expect(converted(9).data).toEqual([
      {
        name: "metadata",
        packetMetadata: {
          srcIp: "192.168.200.50",
          dstIp: "8.8.8.8",
          srcPort: 56650,
          dstPort: 53,
          protocol: 17,
          packetLen: 68,
          iface: "any",
          direction: 0,
        },
      },
      { name: "dns_questions", dnsQuestions: { questions: [{ query: "www.zip.net", queryType: "AAAA", queryClass: "IN" }] } },
    ]);
    expect(converted(10).data[1]?.httpRequest).toEqual({
      method: "GET",
      protocol: "HTTP/1.1",
      host: "www.google.com",
      uriPath: "/",
      headers: { Accept: { header: ["*/*"] }, "User-Agent": { header: ["curl/8.3.0"] } },
      contentLength: 0n,
    });
    expect(converted(11).data[2]?.icmp).toEqual({ typeCode: "EchoRequest", checksum: 38217, id: 6, seq: 2 });
    expect(converted(12).data[2]?.ipv4).toMatchObject({ ihl: 5, ttl: 64, protocol: "TCP", srcIp: "10.10.11.2" });
    // Pointers Tracee already printed as hex strings stay strings, as in Tracee.
    expect(converted(6).data.slice(1, 4)).toEqual([
      { name: "stack", str: "0x0" },
      { name: "parent_tid", str: "0x0" },
      { name: "child_tid", str: "0x7fd7ce0d3a10" },
    ]);
    // A null list had its kind all the same.
    expect(converted(7).data[2]).toEqual({ name: "envp", strArray: { value: [] } });
  });
});

describe("back to legacy", () => {
  /** What eventToLegacy(legacyToEvent(x)) promises to keep of x. */
  const kept = (e: LegacyEvent) => ({
    timestamp: e.timestamp,
    threadStartTime: e.threadStartTime,
    ids: [e.processId, e.hostProcessId, e.threadId, e.hostThreadId, e.userId, e.threadEntityId, e.processEntityId],
    parent: e.parentEntityId === 0 ? null : [e.parentProcessId, e.hostParentProcessId, e.parentEntityId],
    processName: e.processName,
    executable: e.executable,
    syscall: e.syscall,
    isCompat: e.contextFlags.isCompat,
    container: e.container.id === "" ? null : { ...e.container, started: e.contextFlags.containerStarted },
    kubernetes: e.kubernetes.podName === "" ? null : { ...e.kubernetes, podSandbox: false },
    eventName: e.eventName,
    matchedPolicies: e.matchedPolicies,
    stackAddresses: e.stackAddresses,
    returnValue: e.metadata === undefined ? e.returnValue : 0,
    args: e.args.map((a) => ({ name: a.name, value: a.value })),
  });

  /** `v` with the nulls Go prints for nil lists (an argument's value, DNS TXTs) as `[]`. */
  const nilListsEmpty = (v: LegacyJsonValue): LegacyJsonValue => {
    if (v === null) return [];
    if (Array.isArray(v)) return v.map((x) => (x !== null && typeof x === "object" ? nilListsEmpty(x) : x));
    if (typeof v !== "object") return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === "TXTs" || (x !== null && typeof x === "object") ? nilListsEmpty(x) : x]),
    );
  };

  it.each(LINES.map((_, i) => [i] as const))("line %i keeps what eventToLegacy documents", (i) => {
    const before = legacy(i);
    const after = eventToLegacy(legacyToEvent(before));
    const expected = kept(before);
    // Go prints a nil list as null; it comes back as the empty list it was.
    expected.args = expected.args.map((a) => ({ ...a, value: nilListsEmpty(a.value) }));
    expect(kept(after)).toEqual(expected);
    // What it documents it cannot keep.
    expect(after).toMatchObject({ processorId: 0, cgroupId: 0n, mountNamespace: 0, pidNamespace: 0, hostName: "" });
    expect(after.argsNum).toBe(after.args.length);
    expect(after.containerId).toBe(after.container.id);
    expect(legacyOrigin(after)).toBe(legacyOrigin(before));
  });

  it("gives built-in events their v1beta1 id and keeps other ids", () => {
    expect(eventToLegacy(converted(5)).eventId).toBe("258");
    expect(eventToLegacy(converted(0)).eventId).toBe("6029");
  });

  it("names argument types by kind", () => {
    expect(eventToLegacy(converted(4)).args.map((a) => a.type)).toEqual([
      "const char*",
      "const char*",
      "unsigned int", // dev_t
      "unsigned long",
      "unsigned long",
      "const char*",
    ]);
    expect(eventToLegacy(converted(7)).args.map((a) => a.type)).toEqual(["const char*", "const char**", "const char**"]);
  });

  it("turns a threat back into metadata", () => {
    expect(eventToLegacy(converted(0)).metadata).toEqual({
      Version: "", // not in the v1beta1 event
      Description: legacy(0).metadata?.Description,
      Tags: [],
      Properties: {
        Category: "defense-evasion",
        Kubernetes_Technique: "",
        Severity: 2,
        Technique: "Masquerading",
        external_id: "T1036",
        id: "attack-pattern--42e8de7b-37b2-4258-905a-6897815e58e0",
        signatureID: "TRC-1022",
        signatureName: "New executable dropped",
      },
    });
  });

  it.each(LINES.map((_, i) => [i] as const))("line %i: event → legacy → event gives the event again", (i) => {
    const event = converted(i);
    expect(legacyToEvent(eventToLegacy(event))).toEqual(event);
  });
});

describe("detectedFrom", () => {
  const finding = {
    timestamp: 1700000000000000001,
    eventId: "6018",
    eventName: "anti_debugging",
    processName: "strace",
    hostProcessId: 10,
    processId: 10,
    returnValue: 0,
    args: [
      { name: "note", type: "const char *", value: "ptrace" },
      {
        name: "detectedFrom",
        type: "unknown",
        value: {
          id: 101,
          name: "ptrace",
          args: [
            { name: "request", type: "long", value: 0 },
            { name: "addr", type: "void*", value: 140737488355328 },
          ],
          returnValue: -1,
          parent: { id: 6029, name: "dropped", args: [], returnValue: 0 },
        },
      },
    ],
    metadata: { Version: "1", Description: "d", Tags: null, Properties: { Severity: 3, signatureName: "Anti-Debugging" } },
  };
  const line = JSON.stringify(finding).replace('"timestamp":1700000000000000000', '"timestamp":1700000000000000001');

  it("becomes detected_from, with Tracee's internal id and a syscall's return value", () => {
    const event = legacyToEvent(decodeLegacyEventJson(line));
    expect(event.timestamp).toEqual({ seconds: 1700000000n, nanos: 1 });
    expect(event.data).toEqual([{ name: "note", str: "ptrace" }]);
    expect(event.detectedFrom).toEqual({
      id: 101,
      name: "ptrace",
      data: [
        { name: "request", int64: 0n },
        { name: "addr", pointer: 140737488355328n },
        { name: "returnValue", int64: -1n },
      ],
      parent: { id: 6029, name: "dropped", data: [], parent: undefined },
    });
    expect(event.threat).toMatchObject({ severity: Severity.HIGH, name: "Anti-Debugging" });
  });

  it("comes back as the detectedFrom argument", () => {
    const event = legacyToEvent(decodeLegacyEventJson(line));
    const back = eventToLegacy(event);
    expect(back.args.at(-1)).toEqual({
      name: "detectedFrom",
      type: "unknown",
      value: {
        id: 101,
        name: "ptrace",
        args: [
          { name: "request", type: "long", value: 0 },
          { name: "addr", type: "void*", value: 140737488355328 },
        ],
        returnValue: -1,
        parent: { id: 6029, name: "dropped", args: [], returnValue: 0 },
      },
    });
    expect(legacyToEvent(back)).toEqual(event);
  });
});

describe("the event a legacy signature receives", () => {
  it("carries the selector Tracee's engine matches, with the origin Tracee derives", () => {
    const delivered = legacySignatureEvent(converted(0));
    expect(delivered.headers.selector).toEqual({ source: "tracee", name: "New executable dropped", origin: "container" });
    expect(delivered.payload.container.name).toBe("app");
    expect(selectorsMatch([{ source: "tracee", name: "New executable dropped", origin: "container" }], delivered)).toBe(true);
    expect(selectorsMatch([{ source: "tracee", name: "*", origin: "host" }], delivered)).toBe(false);
  });

  it("passes a legacy event through as it is", () => {
    const e = legacy(5);
    expect(legacySignatureEvent(e).payload).toBe(e);
  });

  it("derives container-init for a container that has not started", () => {
    const event = converted(0);
    event.workload!.container!.started = false;
    expect(legacySignatureEvent(event).headers.selector.origin).toBe("container-init");
    expect(legacySignatureEvent({ ...event, workload: undefined }).headers.selector.origin).toBe("host");
  });
});

describe("malformed lines", () => {
  const error = (line: string): LegacyEventJsonError => {
    const err = thrown(() => decodeLegacyEventJson(line));
    expect(isLegacyEventJsonError(err)).toBe(true);
    expect(err).toBeInstanceOf(LegacyEventJsonError);
    return err as LegacyEventJsonError;
  };
  const base = '"timestamp":1,"eventId":"257","eventName":"openat"';

  it.each([
    ["not JSON", "{", "", /^not JSON: /],
    ["not an object", "[1]", "", /expected a JSON object/],
    ["no eventName", '{"timestamp":1,"eventId":"1"}', "eventName", /missing/],
    ["a v1beta1 line", '{"timestamp":"2022-07-08T22:59:27Z","id":1032,"name":"x","data":[]}', "eventName", /v1beta1 event/],
    ["a timestamp string", '{"timestamp":"soon","eventId":"1","eventName":"x"}', "timestamp", /expected an integer \(nanoseconds since the epoch\), got the string "soon"/],
    ["a fractional timestamp", '{"timestamp":1.5,"eventId":"1","eventName":"x"}', "timestamp", /expected an integer/],
    ["no eventId", '{"timestamp":1,"eventName":"x"}', "eventId", /missing/],
    ["a non-numeric eventId", '{"timestamp":1,"eventId":"open","eventName":"x"}', "eventId", /decimal string/],
    ["a string pid", `{${base},"processId":"7"}`, "processId", /expected an integer, got the string "7"/],
    ["an entity id beyond 32 bits", `{${base},"threadEntityId":4294967296}`, "threadEntityId", /unsigned 32-bit/],
    ["a negative stack address", `{${base},"stackAddresses":[1,-2]}`, "stackAddresses[1]", /unsigned 64-bit/],
    ["a container that is a string", `{${base},"container":"abc"}`, "container", /expected an object/],
    ["a container id that is a number", `{${base},"container":{"id":5}}`, "container.id", /expected a string/],
    ["a context flag that is a number", `{${base},"contextFlags":{"containerStarted":1}}`, "contextFlags.containerStarted", /true or false/],
    ["a policy that is a number", `{${base},"matchedPolicies":["a",1]}`, "matchedPolicies[1]", /a string/],
    ["args that are an object", `{${base},"args":{}}`, "args", /an array/],
    ["an argument that is a string", `{${base},"args":["x"]}`, "args[0]", /an argument/],
    ["an argument name that is a number", `{${base},"args":[{"name":1,"type":"int","value":1}]}`, "args[0].name", /a string/],
    [
      "an int beyond 32 bits",
      `{${base},"args":[{"name":"a","type":"int","value":1},{"name":"b","type":"int","value":2},{"name":"fd","type":"int","value":5000000000}]}`,
      "args[2].value",
      /expected a 32-bit integer for type "int", got number 5000000000/,
    ],
    ["a negative unsigned long", `{${base},"args":[{"name":"x","type":"unsigned long","value":-1}]}`, "args[0].value", /unsigned 64-bit/],
    ["a fractional u16", `{${base},"args":[{"name":"x","type":"u16","value":1.5}]}`, "args[0].value", /unsigned 16-bit/],
    ["a negative pointer", `{${base},"args":[{"name":"x","type":"void*","value":-1}]}`, "args[0].value", /an address/],
    ["bytes that are not base64", `{${base},"args":[{"name":"b","type":"bytes","value":"not base64!"}]}`, "args[0].value", /base64/],
    ["an int[2] of strings", `{${base},"args":[{"name":"p","type":"int[2]","value":["a",1]}]}`, "args[0].value[0]", /32-bit/],
    [
      "a TCP port that is a string",
      `{${base},"args":[{"name":"t","type":"trace.ProtoTCP","value":{"srcPort":"80"}}]}`,
      "args[0].value.srcPort",
      /unsigned 16-bit integer, got the string "80"/,
    ],
    [
      "a DNS answer TTL that is negative",
      `{${base},"args":[{"name":"d","type":"trace.ProtoDNS","value":{"answers":[{"TTL":-1}]}}]}`,
      "args[0].value.answers[0].TTL",
      /unsigned 32-bit/,
    ],
    [
      "a sockaddr without a family",
      `{${base},"args":[{"name":"s","type":"struct sockaddr*","value":{"sin_port":"80"}}]}`,
      "args[0].value.sa_family",
      /address family/,
    ],
    [
      "a sockaddr port that is not a number",
      `{${base},"args":[{"name":"s","type":"struct sockaddr*","value":{"sa_family":"AF_INET","sin_port":"http"}}]}`,
      "args[0].value.sin_port",
      /unsigned 32-bit/,
    ],
    [
      "an HTTP header that is a string",
      `{${base},"args":[{"name":"h","type":"trace.ProtoHTTPRequest","value":{"headers":{"Host":"x"}}}]}`,
      'args[0].value.headers["Host"]',
      /array of strings/,
    ],
    [
      "a detectedFrom that is a string",
      `{${base},"args":[{"name":"detectedFrom","type":"unknown","value":"ptrace"}]}`,
      "args[0].value",
      /the event the finding came from/,
    ],
    [
      "a detectedFrom argument value out of range",
      `{${base},"args":[{"name":"detectedFrom","type":"unknown","value":{"id":1,"name":"x","args":[{"name":"fd","type":"int","value":1e10}]}}]}`,
      "args[0].value.args[0].value",
      /32-bit/,
    ],
    ["metadata that is a string", `{${base},"metadata":"x"}`, "metadata", /an object/],
    ["a tag that is a number", `{${base},"metadata":{"Tags":[1]}}`, "metadata.Tags[0]", /a string/],
  ])("%s: names %j", (_what, line, path, reason) => {
    const err = error(line);
    expect(err.path).toBe(path);
    expect(err.reason).toMatch(reason);
    expect(err.message).toBe(path === "" ? err.reason : `${path}: ${err.reason}`);
  });

  it("keeps the syntax error as the cause", () => {
    const err = error('{"timestamp":1,');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it("legacyToEvent checks values too, for events built by hand", () => {
    const e = legacy(5);
    e.args[0] = { name: "dirfd", type: "int", value: 2 ** 40 };
    const err = thrown(() => legacyToEvent(e));
    expect(err).toMatchObject({ path: "args[0].value", name: "LegacyEventJsonError" });
    e.eventId = "x";
    expect(thrown(() => legacyToEvent(e))).toMatchObject({ path: "eventId" });
  });
});
