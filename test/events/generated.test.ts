// The ts-proto code generated from proto/tracee/v1beta1 (Tracee's event API):
// 64-bit fields are exact bigints, timestamps are { seconds, nanos }, EventId
// has Tracee's numbers, and every EventValue kind survives a round trip.
import { describe, expect, it } from "vitest";
import { Timestamp } from "../../src/gen/google/protobuf/timestamp.js";
import { Event, EventId } from "../../src/gen/tracee/v1beta1/event.js";
import { EventValue, PacketDirection, saFamilyT } from "../../src/gen/tracee/v1beta1/event_data.js";
import { Severity } from "../../src/gen/tracee/v1beta1/threat.js";
import {
  StreamEventsRequest,
  StreamEventsResponse,
  TraceeServiceClient,
  TraceeServiceService,
} from "../../src/gen/tracee/v1beta1/tracee.js";

const CTIME = 1_600_000_000_123_456_789n;
const U64_MAX = 2n ** 64n - 1n;

// Hand-rolled protobuf wire bytes, so field numbers are checked against the
// wire format itself rather than against the generated code.
function varint(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
const tag = (field: number, wireType: number) => varint((field << 3) | wireType);
const fieldVarint = (field: number, n: bigint | number) => [...tag(field, 0), ...varint(n)];
function fieldBytes(field: number, body: number[] | string): number[] {
  const bytes = typeof body === "string" ? [...new TextEncoder().encode(body)] : body;
  return [...tag(field, 2), ...varint(bytes.length), ...bytes];
}

function roundTrip(value: EventValue): EventValue {
  return EventValue.decode(EventValue.encode(value).finish());
}

describe("Event", () => {
  const event: Event = {
    timestamp: { seconds: 1_700_000_000n, nanos: 123_456_789 },
    id: EventId.security_file_open,
    name: "security_file_open",
    policies: { matched: ["default", "files"] },
    workload: {
      process: {
        executable: { path: "/usr/bin/cat" },
        uniqueId: 3_000_000_000,
        hostPid: 4242,
        pid: 1,
        realUser: { id: 0 },
        thread: {
          startTime: { seconds: 1_699_999_999n, nanos: 1 },
          name: "cat",
          uniqueId: 7,
          hostTid: 4242,
          tid: 1,
          syscall: "openat",
          compat: false,
          userStackTrace: { addresses: [{ address: 0x7fff_ffff_f000n, symbol: "main" }] },
        },
        ancestors: [
          {
            executable: { path: "/bin/sh" },
            uniqueId: 1,
            hostPid: 4200,
            pid: undefined,
            ancestors: [],
          },
        ],
      },
      container: {
        id: "abc123",
        name: "web",
        image: { id: "sha256:00", repoDigests: ["nginx@sha256:11"], name: "nginx:1" },
        started: true,
      },
      k8s: {
        pod: { name: "web-0", uid: "u-1", labels: { app: "web", tier: "front" } },
        namespace: { name: "prod" },
      },
    },
    data: [
      { name: "pathname", str: "/etc/shadow" },
      { name: "ctime", uInt64: CTIME },
      { name: "flags", uInt32: 0o100000 },
    ],
    threat: {
      description: "read of a sensitive file",
      mitre: { tactic: { name: "Credential Access" }, technique: { id: "T1003", name: "OS Credential Dumping" } },
      severity: Severity.HIGH,
      name: "sensitive_read",
      properties: { category: "credential-access" },
    },
    detectedFrom: {
      id: EventId.security_file_open,
      name: "security_file_open",
      data: [{ name: "inode", uInt64: U64_MAX }],
      parent: { id: EventId.openat, name: "openat", data: [{ name: "dirfd", int32: -100 }], parent: undefined },
    },
  };

  it("round trips every part, with 64-bit values exact", () => {
    const decoded = Event.decode(Event.encode(event).finish());
    expect(decoded).toEqual(event);

    const ctime = decoded.data[1]?.uInt64;
    expect(typeof ctime).toBe("bigint");
    expect(ctime).toBe(CTIME);
    expect(ctime).not.toBe(BigInt(Number(CTIME))); // a JS number would have rounded it
    expect(decoded.detectedFrom?.data[0]?.uInt64).toBe(U64_MAX);
    expect(decoded.timestamp).toEqual({ seconds: 1_700_000_000n, nanos: 123_456_789 });
    expect(decoded.timestamp).not.toBeInstanceOf(Date);
    expect(decoded.workload?.process?.hostPid).toBe(4242);
    expect(decoded.workload?.process?.thread?.userStackTrace?.addresses[0]?.address).toBe(0x7fff_ffff_f000n);
    expect(decoded.detectedFrom?.parent?.name).toBe("openat");
  });

  it("encodes u_int64 as a plain varint in field 5 and the timestamp as { 1: seconds, 2: nanos }", () => {
    expect([...EventValue.encode({ name: "", uInt64: CTIME }).finish()]).toEqual(fieldVarint(5, CTIME));
    expect([...Timestamp.encode({ seconds: 1_700_000_000n, nanos: 123_456_789 }).finish()]).toEqual([
      ...fieldVarint(1, 1_700_000_000),
      ...fieldVarint(2, 123_456_789),
    ]);
  });

  it("decodes bytes laid out by Tracee's field numbers", () => {
    const bytes = Uint8Array.from([
      ...fieldBytes(1, [...fieldVarint(1, 1_700_000_000), ...fieldVarint(2, 5)]), // timestamp
      ...fieldVarint(2, 1015), // id
      ...fieldBytes(3, "sched_process_exec"), // name
      ...fieldBytes(5, fieldBytes(1, [...fieldBytes(1, fieldBytes(1, "/bin/ls")), ...fieldBytes(3, [...fieldVarint(1, 77)])])),
      ...fieldBytes(6, [...fieldBytes(1, "ctime"), ...fieldVarint(5, CTIME)]), // data[0]
      ...fieldBytes(6, [...fieldBytes(1, "argv"), ...fieldBytes(9, [...fieldBytes(1, "ls"), ...fieldBytes(1, "-l")])]),
    ]);
    const decoded = Event.decode(bytes);
    expect(decoded.timestamp).toEqual({ seconds: 1_700_000_000n, nanos: 5 });
    expect(decoded.id).toBe(EventId.sched_process_exec);
    expect(decoded.name).toBe("sched_process_exec");
    expect(decoded.workload?.process?.executable?.path).toBe("/bin/ls");
    expect(decoded.workload?.process?.hostPid).toBe(77);
    expect(decoded.data[0]).toMatchObject({ name: "ctime", uInt64: CTIME });
    expect(decoded.data[1]?.strArray?.value).toEqual(["ls", "-l"]);
  });

  it("keeps an event id this schema does not know as its number", () => {
    const decoded = Event.decode(Uint8Array.from(fieldVarint(2, 1500)));
    expect(decoded.id).toBe(1500);
  });
});

describe("EventId", () => {
  it("has Tracee's numbers", () => {
    expect(EventId.unspecified).toBe(0);
    expect(EventId.execve).toBe(60);
    expect(EventId.ptrace).toBe(102);
    expect(EventId.openat).toBe(258);
    expect(EventId.sched_process_exec).toBe(1015);
    expect(EventId.magic_write).toBe(1027);
    expect(EventId.security_file_open).toBe(1032);
    expect(EventId.security_socket_connect).toBe(1036);
    expect(EventId.net_packet_dns).toBe(2006);
    expect(EventId.tracee_info).toBe(2026);
  });

  it("keeps names that are keywords or start with underscores", () => {
    expect(EventId.break).toBe(363);
    expect(EventId.__kernel_write).toBe(1051);
    expect(EventId[363]).toBe("break");
    expect(EventId[1051]).toBe("__kernel_write");
  });
});

describe("EventValue", () => {
  const cases: [string, EventValue][] = [
    ["str", { name: "pathname", str: "/etc/passwd" }],
    ["u_int64", { name: "ctime", uInt64: CTIME }],
    ["u_int64 max", { name: "inode", uInt64: U64_MAX }],
    ["int64", { name: "off", int64: -(2n ** 63n) }],
    ["int32", { name: "ret", int32: -1 }],
    ["u_int32", { name: "mode", uInt32: 0o755 }],
    ["bool", { name: "ok", bool: true }],
    ["bytes", { name: "buf", bytes: Buffer.from([0, 1, 2, 255]) }],
    ["pointer", { name: "addr", pointer: 0xffff_8000_dead_beefn }],
    ["str_array", { name: "argv", strArray: { value: ["sh", "-c", "id"] } }],
    ["int32_array", { name: "fds", int32Array: { value: [3, -1] } }],
    ["u_int64_array", { name: "caps", uInt64Array: { value: [0n, CTIME, U64_MAX] } }],
    [
      "sockaddr (inet)",
      { name: "remote_addr", sockaddr: { saFamily: saFamilyT.AF_INET, sunPath: "", sinAddr: "10.0.0.1", sinPort: 443, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } },
    ],
    [
      "sockaddr (inet6)",
      { name: "addr", sockaddr: { saFamily: saFamilyT.AF_INET6, sunPath: "", sinAddr: "", sinPort: 0, sin6Addr: "::1", sin6Port: 8080, sin6Flowinfo: 1, sin6Scopeid: 2 } },
    ],
    [
      "struct",
      { name: "extra", struct: { a: 1, b: "two", c: [true, null, { d: 1.5 }], e: { f: "g" } } },
    ],
    ["timespec", { name: "req", timespec: { value: 1.25 } }],
    [
      "credentials",
      {
        name: "new_cred",
        credentials: {
          uid: 0, gid: 0, suid: 1000, sgid: 1000, euid: 0, egid: 0, fsuid: 0, fsgid: 0,
          userNamespace: 4026531837, secureBits: 0,
          capInheritable: [], capPermitted: [21, 39], capEffective: [21], capBounding: [0, 1, 2], capAmbient: [],
        },
      },
    ],
    [
      "packet_metadata",
      { name: "metadata", packetMetadata: { srcIp: "10.0.0.1", dstIp: "10.0.0.2", srcPort: 1234, dstPort: 53, protocol: 17, packetLen: 80, iface: "eth0", direction: PacketDirection.EGRESS } },
    ],
    [
      "dns_questions",
      { name: "dns_questions", dnsQuestions: { questions: [{ query: "example.com", queryType: "A", queryClass: "IN" }] } },
    ],
    [
      "http_request",
      { name: "http_request", httpRequest: { method: "GET", protocol: "HTTP/1.1", host: "x", uriPath: "/", headers: { Accept: { header: ["*/*"] } }, contentLength: 0n } },
    ],
  ];

  it.each(cases)("round trips %s", (_kind, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it("sets only the one oneof member it decoded", () => {
    const decoded = roundTrip({ name: "ctime", uInt64: CTIME });
    const set = Object.entries(decoded).filter(([key, v]) => key !== "name" && v !== undefined);
    expect(set).toEqual([["uInt64", CTIME]]);
  });

  it("puts str, u_int64, sockaddr, struct and pointer on Tracee's field numbers", () => {
    expect([...EventValue.encode({ name: "", str: "x" }).finish()]).toEqual(fieldBytes(6, "x"));
    expect([...EventValue.encode({ name: "", pointer: 1n }).finish()]).toEqual(fieldVarint(31, 1));
    expect(EventValue.encode({ name: "", sockaddr: { saFamily: saFamilyT.AF_UNIX, sunPath: "/s", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } }).finish()[0]).toBe(
      (12 << 3) | 2,
    );
    // struct is field 30: two tag bytes 0xf2 0x01.
    expect([...EventValue.encode({ name: "", struct: {} }).finish()]).toEqual(fieldBytes(30, []));
  });
});

describe("TraceeService", () => {
  it("StreamEventsRequest carries the field mask as a list of paths", () => {
    const request: StreamEventsRequest = { policies: ["p1"], mask: ["timestamp", "workload.process.host_pid"] };
    expect(StreamEventsRequest.decode(StreamEventsRequest.encode(request).finish())).toEqual(request);
    // field 2 is a google.protobuf.FieldMask, whose field 1 holds the paths
    expect([...StreamEventsRequest.encode({ policies: [], mask: ["id"] }).finish()]).toEqual(
      fieldBytes(2, fieldBytes(1, "id")),
    );
  });

  it("StreamEventsResponse wraps an Event in field 1", () => {
    const response = { event: Event.fromPartial({ id: EventId.execve, name: "execve", data: [{ name: "ctime", uInt64: CTIME }] }) };
    const decoded = StreamEventsResponse.decode(StreamEventsResponse.encode(response).finish());
    expect(decoded.event?.id).toBe(60);
    expect(decoded.event?.data[0]?.uInt64).toBe(CTIME);
  });

  it("has Tracee's methods, with StreamEvents server-streaming", () => {
    expect(TraceeServiceService.streamEvents.path).toBe("/tracee.v1beta1.TraceeService/StreamEvents");
    expect(TraceeServiceService.streamEvents.responseStream).toBe(true);
    expect(Object.values(TraceeServiceService).map((m) => m.path).sort()).toEqual(
      ["DisableEvent", "EnableEvent", "GetDetectorsCatalog", "GetEventDefinitions", "GetVersion", "StreamEvents"]
        .map((name) => `/tracee.v1beta1.TraceeService/${name}`),
    );
    expect(typeof TraceeServiceClient).toBe("function");
  });
});
