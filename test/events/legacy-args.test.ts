// Legacy arguments: every type name Tracee has used maps to the kind Tracee's
// conversion gives its value, and back; properties over generated arguments
// and timestamps check exactness and the round trips.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeLegacyEventJson,
  eventToLegacy,
  type LegacyArgument,
  type LegacyEvent,
  type LegacyJsonValue,
  legacyToEvent,
} from "../../src/events/legacy/index.js";
import { type EventValue, type EventValueKind, kindOf } from "../../src/events/model.js";
import { thrown } from "../support/errors.js";

/** JSON text for a legacy value, with bigints as bare digits (as Tracee prints them). */
function jsonText(v: unknown): string {
  const marked = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `\u0000big:${x}` : x));
  return marked.replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

const line = (args: unknown[], extra: Record<string, unknown> = {}): string =>
  jsonText({ timestamp: 1, eventId: "1022", eventName: "vfs_read", args, ...extra });

/** The first data entry of the event a one-argument line converts to. */
const valueOf = (arg: unknown): EventValue => legacyToEvent(decodeLegacyEventJson(line([arg]))).data[0]!;

/** The argument a one-argument line comes back as. */
const backOf = (arg: unknown): LegacyArgument => eventToLegacy(legacyToEvent(decodeLegacyEventJson(line([arg])))).args[0]!;

describe("type names → kinds (numbers)", () => {
  const GROUPS: Array<[EventValueKind, string, readonly string[], bigint, bigint]> = [
    [
      "int32",
      "int",
      ["int", "int32", "pid_t", "uid_t", "gid_t", "mqd_t", "clockid_t", "const clockid_t", "key_t", "key_serial_t", "timer_t", "landlock_rule_type"],
      -(2n ** 31n),
      2n ** 31n - 1n,
    ],
    ["int32", "int", ["short", "int16"], -(2n ** 15n), 2n ** 15n - 1n],
    ["int32", "int", ["int8"], -128n, 127n],
    ["int64", "long", ["long", "int64"], -(2n ** 63n), 2n ** 63n - 1n],
    ["u_int32", "unsigned int", ["unsigned int", "u32", "uint32", "mode_t", "dev_t"], 0n, 2n ** 32n - 1n],
    ["u_int32", "unsigned int", ["unsigned short", "u16", "uint16", "umode_t", "old_uid_t", "old_gid_t"], 0n, 65535n],
    ["u_int32", "unsigned int", ["u8", "uint8"], 0n, 255n],
    ["u_int64", "unsigned long", ["unsigned long", "u64", "uint64", "off_t", "loff_t", "size_t"], 0n, 2n ** 64n - 1n],
    ["pointer", "void*", ["void*", "const void*", "int*", "struct stat*", "trace.Pointer"], 0n, 2n ** 64n - 1n],
  ];
  const MEMBER = { int32: "int32", int64: "int64", u_int32: "uInt32", u_int64: "uInt64", pointer: "pointer" } as const;
  const exact = (n: bigint): number | bigint => (n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n);

  for (const [kind, back, types, min, max] of GROUPS) {
    it(`${types.join(", ")} → ${kind}, back as "${back}"`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...types), fc.bigInt({ min, max }), (type, n) => {
          const value = valueOf({ name: "x", type, value: n });
          const member = MEMBER[kind as keyof typeof MEMBER];
          expect(kindOf(value)).toBe(kind);
          expect(BigInt(value[member] as number | bigint)).toBe(n);
          expect(typeof value[member]).toBe(kind === "int32" || kind === "u_int32" ? "number" : "bigint");
          expect(backOf({ name: "x", type, value: n })).toEqual({ name: "x", type: back, value: exact(n) });
        }),
      );
    });

    it(`${types[0]} rejects values outside ${min}…${max}, naming the argument`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...types),
          fc.oneof(fc.bigInt({ min: max + 1n, max: max + 2n ** 70n }), fc.bigInt({ min: min - 2n ** 70n, max: min - 1n })),
          (type, n) => {
            const err = thrown(() => decodeLegacyEventJson(line([{ name: "ok", type: "int", value: 1 }, { name: "x", type, value: n }])));
            expect(err).toMatchObject({ name: "LegacyEventJsonError", path: "args[1].value" });
            expect(err.message).toContain(`for type ${JSON.stringify(type)}`);
          },
        ),
      );
    });
  }

  it("float, double and the timespec pointers → timespec", () => {
    for (const type of ["float", "float64", "double", "struct timespec*", "const struct timespec*"]) {
      expect(valueOf({ name: "t", type, value: 1.5 })).toEqual({ name: "t", timespec: { value: 1.5 } });
      expect(valueOf({ name: "t", type, value: 7 })).toEqual({ name: "t", timespec: { value: 7 } });
    }
    expect(backOf({ name: "t", type: "double", value: 0.25 })).toEqual({ name: "t", type: "struct timespec*", value: 0.25 });
  });

  it("a number of an unknown type is an int64, a u_int64 beyond it, a timespec with a fraction", () => {
    expect(valueOf({ name: "x", type: "cap_user_header_t", value: -5 })).toEqual({ name: "x", int64: -5n });
    expect(valueOf({ name: "x", type: "", value: 2n ** 64n - 1n })).toEqual({ name: "x", uInt64: 2n ** 64n - 1n });
    expect(valueOf({ name: "x", type: "unknown", value: 2.5 })).toEqual({ name: "x", timespec: { value: 2.5 } });
  });

  it("time.Time: nanoseconds, from a number or from Go's RFC 3339", () => {
    expect(valueOf({ name: "t", type: "time.Time", value: 1657321027326584850n })).toEqual({ name: "t", uInt64: 1657321027326584850n });
    expect(valueOf({ name: "t", type: "time.Time", value: "2022-07-08T23:57:07.32658485+01:00" })).toEqual({
      name: "t",
      uInt64: 1657321027326584850n,
    });
  });
});

describe("type names → kinds (strings, lists, structs)", () => {
  const CASES: Array<[{ type: string; value: LegacyJsonValue }, Omit<EventValue, "name">]> = [
    [{ type: "const char*", value: "/etc/passwd" }, { str: "/etc/passwd" }],
    [{ type: "int", value: "O_RDONLY" }, { str: "O_RDONLY" }], // a decoded flag: a string whatever the type says
    [{ type: "void*", value: "0x7ffd0000" }, { str: "0x7ffd0000" }],
    [{ type: "bool", value: true }, { bool: true }],
    [{ type: "bytes", value: "f0VMRgIB" }, { bytes: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01]) }],
    [{ type: "[]byte", value: null }, { bytes: Buffer.alloc(0) }],
    [{ type: "const char*const*", value: ["ls", "-l"] }, { strArray: { value: ["ls", "-l"] } }],
    [{ type: "const char**", value: ["a", 1, null] }, { strArray: { value: ["a", "1", "<nil>"] } }], // fmt.Sprint, as Tracee
    [{ type: "[]string", value: null }, { strArray: { value: [] } }],
    [{ type: "int[2]", value: [3, -4] }, { int32Array: { value: [3, -4] } }],
    [{ type: "[2]int", value: [0, 1] }, { int32Array: { value: [0, 1] } }],
    [{ type: "unsigned long[]", value: [1, 18446744073709551615n] }, { uInt64Array: { value: [1n, 18446744073709551615n] } }],
    [
      { type: "struct sockaddr*", value: { sa_family: "AF_INET", sin_port: "443", sin_addr: "10.96.0.1" } },
      { sockaddr: { saFamily: 2, sinAddr: "10.96.0.1", sinPort: 443, sunPath: "", sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } },
    ],
    [
      { type: "SockAddr", value: { sa_family: "AF_INET6", sin6_port: "53", sin6_flowinfo: "0", sin6_scopeid: "2", sin6_addr: "::1" } },
      { sockaddr: { saFamily: 10, sin6Addr: "::1", sin6Port: 53, sin6Flowinfo: 0, sin6Scopeid: 2, sunPath: "", sinAddr: "", sinPort: 0 } },
    ],
    [
      { type: "unknown", value: { sa_family: "AF_UNIX", sun_path: "/run/docker.sock" } },
      { sockaddr: { saFamily: 1, sunPath: "/run/docker.sock", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } },
    ],
    [
      { type: "struct sockaddr*", value: { sa_family: "AF_NETLINK" } },
      { sockaddr: { saFamily: 0, sunPath: "", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } },
    ],
    [
      { type: "slim_cred_t", value: { Uid: 1000, Euid: 0, CapEffective: 2 ** 21 + 1, CapPermitted: 0 } },
      {
        credentials: {
          uid: 1000, gid: 0, suid: 0, sgid: 0, euid: 0, egid: 0, fsuid: 0, fsgid: 0, userNamespace: 0, secureBits: 0,
          capInheritable: [], capPermitted: [], capEffective: [0, 21], capBounding: [], capAmbient: [],
        },
      },
    ],
    [
      { type: "[]trace.HookedSymbolData", value: [{ SymbolName: "sys_kill", ModuleOwner: "rootkit" }] },
      { hookedSyscalls: { value: [{ symbolName: "sys_kill", moduleOwner: "rootkit" }] } },
    ],
    [
      { type: "map[string]trace.HookedSymbolData", value: { show: { SymbolName: "s", ModuleOwner: "m" } } },
      { hookedSeqOps: { value: { show: { symbolName: "s", moduleOwner: "m" } } } },
    ],
    [
      { type: "trace.ProtoUDP", value: { srcPort: 53, dstPort: 5353, length: 8, checksum: 1 } },
      { udp: { srcPort: 53, dstPort: 5353, length: 8, checksum: 1 } },
    ],
    [{ type: "trace.ProtoICMPv6", value: { typeCode: "EchoRequest", checksum: 9 } }, { icmpv6: { typeCode: "EchoRequest", checksum: 9 } }],
    [
      { type: "trace.ProtoIPv6", value: { version: 6, flowLabel: 70000, nextHeader: "UDP", hopLimit: 64, srcIP: "::1", dstIP: "::2" } },
      { ipv6: { version: 6, trafficClass: 0, flowLabel: 70000, length: 0, nextHeader: "UDP", hopLimit: 64, srcIp: "::1", dstIp: "::2" } },
    ],
    [
      {
        type: "trace.ProtoHTTP",
        value: { direction: "response", status: "200 OK", status_code: 200, headers: { Server: ["nginx"] }, content_length: 12 },
      },
      {
        http: {
          direction: "response", method: "", protocol: "", host: "", uriPath: "", status: "200 OK", statusCode: 200,
          headers: { Server: { header: ["nginx"] } }, contentLength: 12n,
        },
      },
    ],
    [
      { type: "trace.ProtoHTTPResponse", value: { status: "404", status_code: 404, protocol: "HTTP/1.1", headers: null, content_length: -1 } },
      { httpResponse: { status: "404", statusCode: 404, protocol: "HTTP/1.1", headers: {}, contentLength: -1n } },
    ],
    [
      {
        type: "[]trace.DnsResponseData",
        value: [
          {
            query_data: { query: "a.io", query_type: "A", query_class: "IN" },
            dns_answer: [{ answer_type: "A", ttl: 60, answer: "1.2.3.4" }],
          },
        ],
      },
      {
        dnsResponses: {
          responses: [
            {
              dnsQueryData: { query: "a.io", queryType: "A", queryClass: "IN" },
              dnsAnswer: [{ type: "A", ttl: 60, answer: "1.2.3.4" }],
            },
          ],
        },
      },
    ],
    [{ type: "trace.PacketMetadata", value: { direction: 2 } }, { str: "egress" }], // Tracee keeps only the direction
    [{ type: "trace.PacketMetadata", value: { direction: 1 } }, { str: "ingress" }],
    [{ type: "unknown", value: { a: 1, b: [true, "x"], big: 2n ** 60n } }, { struct: { a: 1, b: [true, "x"], big: 2 ** 60 } }],
    [{ type: "unknown", value: [{ a: 1 }] }, { struct: { items: [{ a: 1 }] } }], // lists of maps, wrapped as Tracee wraps them
    [{ type: "unknown", value: ["a", "b"] }, { strArray: { value: ["a", "b"] } }],
    [{ type: "unknown", value: [1, 2] }, { uInt64Array: { value: [1n, 2n] } }],
    [{ type: "trace.ProtoTCP", value: null }, {}], // no value: no kind
  ];
  it.each(CASES.map(([arg, expected]) => [arg.type, jsonText(arg.value).slice(0, 80), arg, expected] as const))(
    "%s %s",
    (_type, _value, arg, expected) => {
      expect(valueOf({ name: "a", ...arg })).toEqual({ name: "a", ...expected });
    },
  );
});

// Generated legacy arguments, each with the kind it must convert to.
const u = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as LegacyJsonValue);
const ARGS: fc.Arbitrary<[LegacyArgument, EventValueKind | undefined]> = fc.oneof(
  fc.tuple(fc.string(), fc.string()).map(([type, s]): [LegacyArgument, EventValueKind] => [
    { name: "s", type: ["bytes", "[]byte", "[]uint8", "time.Time"].includes(type) ? "const char*" : type, value: s },
    "str",
  ]),
  fc.boolean().map((b): [LegacyArgument, EventValueKind] => [{ name: "b", type: "bool", value: b }, "bool"]),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n): [LegacyArgument, EventValueKind] => [{ name: "fd", type: "int", value: n }, "int32"]),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n): [LegacyArgument, EventValueKind] => [{ name: "p", type: "void*", value: n }, "pointer"]),
  fc.uint8Array().map((b): [LegacyArgument, EventValueKind] => [{ name: "buf", type: "bytes", value: Buffer.from(b).toString("base64") }, "bytes"]),
  fc.array(fc.string()).map((a): [LegacyArgument, EventValueKind] => [{ name: "argv", type: "const char*const*", value: a }, "str_array"]),
  fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map((a): [LegacyArgument, EventValueKind] => [
    { name: "fds", type: "int[2]", value: a },
    "int32_array",
  ]),
  fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map((a): [LegacyArgument, EventValueKind] => [
    { name: "syms", type: "unsigned long[]", value: a },
    "u_int64_array",
  ]),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)).map((d): [LegacyArgument, EventValueKind] => [
    { name: "ts", type: "struct timespec*", value: d },
    "timespec",
  ]),
  fc.tuple(u(16), fc.ipV4()).map(([port, ip]): [LegacyArgument, EventValueKind] => [
    { name: "addr", type: "struct sockaddr*", value: { sa_family: "AF_INET", sin_port: String(port), sin_addr: ip } },
    "sockaddr",
  ]),
  fc.tuple(u(16), u(32), u(32), fc.ipV6()).map(([port, flow, scope, ip]): [LegacyArgument, EventValueKind] => [
    {
      name: "addr",
      type: "struct sockaddr*",
      value: { sa_family: "AF_INET6", sin6_port: String(port), sin6_flowinfo: String(flow), sin6_scopeid: String(scope), sin6_addr: ip },
    },
    "sockaddr",
  ]),
  fc.string().map((path): [LegacyArgument, EventValueKind] => [
    { name: "addr", type: "struct sockaddr*", value: { sa_family: "AF_UNIX", sun_path: path } },
    "sockaddr",
  ]),
  fc
    .record({
      ...Object.fromEntries(["Uid", "Gid", "Suid", "Sgid", "Euid", "Egid", "Fsuid", "Fsgid", "UserNamespace", "SecureBits"].map((k) => [k, u(32)])),
      ...Object.fromEntries(
        ["CapInheritable", "CapPermitted", "CapEffective", "CapBounding", "CapAmbient"].map((k) => [k, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })]),
      ),
    })
    .map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === "bigint" && v < 2n ** 53n ? Number(v) : v])))
    .map((c): [LegacyArgument, EventValueKind] => [{ name: "cred", type: "slim_cred_t", value: c }, "credentials"]),
  fc
    .record({
      srcPort: u(16), dstPort: u(16), seq: u(32), ack: u(32), dataOffset: u(8),
      FIN: u(1), SYN: u(1), RST: u(1), PSH: u(1), ACK: u(1), URG: u(1), ECE: u(1), CWR: u(1), NS: u(1),
      window: u(16), checksum: u(16), urgent: u(16),
    })
    .map((t): [LegacyArgument, EventValueKind] => [{ name: "proto_tcp", type: "trace.ProtoTCP", value: t }, "tcp"]),
  fc
    .record({ typeCode: fc.string(), checksum: u(16), id: u(16), seq: u(16) })
    .map((t): [LegacyArgument, EventValueKind] => [{ name: "proto_icmp", type: "trace.ProtoICMP", value: t }, "icmp"]),
  fc
    .record({ src_ip: fc.ipV4(), dst_ip: fc.ipV4(), src_port: u(16), dst_port: u(16), protocol: u(8), packet_len: u(32), iface: fc.string() })
    .map((m): [LegacyArgument, EventValueKind] => [{ name: "metadata", type: "trace.PktMeta", value: m }, "packet_metadata"]),
  fc
    .record({
      method: fc.string(),
      protocol: fc.string(),
      host: fc.string(),
      uri_path: fc.string(),
      headers: fc.dictionary(fc.string(), fc.array(fc.string())),
      content_length: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => (n >= -(2n ** 53n) + 1n && n < 2n ** 53n ? Number(n) : n)),
    })
    .map((h): [LegacyArgument, EventValueKind] => [{ name: "http_request", type: "trace.ProtoHTTPRequest", value: h }, "http_request"]),
  fc
    .dictionary(fc.string().filter((k) => k !== "sa_family"), json)
    .map((o): [LegacyArgument, EventValueKind] => [{ name: "extra", type: "unknown", value: o }, "struct"]),
  fc.constant<[LegacyArgument, undefined]>([{ name: "nothing", type: "unknown", value: null }, undefined]),
);

const eventWith = (args: LegacyArgument[], timestamp = 1657321167356729582n): LegacyEvent =>
  decodeLegacyEventJson(jsonText({ timestamp, eventId: "257", eventName: "openat", processName: "cat", hostProcessId: 7, args }));

describe("properties", () => {
  it("generated arguments convert to their kind, in order", () => {
    fc.assert(
      fc.property(fc.array(ARGS, { maxLength: 8 }), (pairs) => {
        const event = legacyToEvent(eventWith(pairs.map(([a]) => a)));
        expect(event.data.map(kindOf)).toEqual([...pairs.map(([, kind]) => kind), "int64"]); // + returnValue
      }),
    );
  });

  it("event → legacy → event gives the event again", () => {
    fc.assert(
      fc.property(fc.array(ARGS, { maxLength: 8 }), (pairs) => {
        const event = legacyToEvent(eventWith(pairs.map(([a]) => a)));
        expect(legacyToEvent(eventToLegacy(event))).toEqual(event);
      }),
    );
  });

  it("legacy → event → legacy keeps every generated argument's name and value", () => {
    fc.assert(
      fc.property(fc.array(ARGS, { maxLength: 8 }), (pairs) => {
        const before = eventWith(pairs.map(([a]) => a));
        const after = eventToLegacy(legacyToEvent(before));
        expect(after.args.map((a) => a.name)).toEqual(before.args.map((a) => a.name));
        expect(after.args.map((a) => a.value)).toEqual(before.args.map((a) => a.value));
      }),
    );
  });

  it("a legacy event printed as JSON and read back is the same event", () => {
    fc.assert(
      fc.property(fc.array(ARGS, { maxLength: 8 }), (pairs) => {
        const legacy = eventToLegacy(legacyToEvent(eventWith(pairs.map(([a]) => a))));
        expect(decodeLegacyEventJson(jsonText(legacy))).toEqual(legacy);
      }),
    );
  });

  it("any 64-bit nanosecond timestamp survives exactly, through JSON text and both conversions", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (ns) => {
        const legacy = eventWith([], ns);
        expect(legacy.timestamp).toBe(ns);
        const event = legacyToEvent(legacy);
        if (ns === 0n) expect(event.timestamp).toBeUndefined();
        else {
          const { seconds, nanos } = event.timestamp!;
          expect(nanos).toBeGreaterThanOrEqual(0);
          expect(nanos).toBeLessThan(1e9);
          expect(seconds * 1_000_000_000n + BigInt(nanos)).toBe(ns);
        }
        expect(eventToLegacy(event).timestamp).toBe(ns);
      }),
    );
  });
});
