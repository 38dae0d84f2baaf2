/**
 * fast-check arbitraries for Tracee events: every EventValue kind, 64-bit
 * extremes, empty and zero wrappers, strings with the characters the
 * printers escape. Events built here are ones Tracee could print (valid
 * UTF-8, timestamps in years 1–9999, a real user only with an id).
 */
import fc from "fast-check";
import type { JsonObject, JsonValue } from "type-fest";
import type {
  Container,
  Credentials,
  DetectedFrom,
  EventValue,
  K8s,
  Process,
  SockAddr,
  Thread,
  Threat,
  Timestamp,
  TraceeEvent,
  Workload,
} from "tracee-ds/events";

const U32 = 0xffffffff;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** Strings with what the printers escape: quotes, backslashes, control characters, <>&, U+2028, astral characters. */
export const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom('"', "\\", "\n", "\t", "\u0001", "\u001f", "\u007f", "<", ">", "&", "\u2028", "é", "😀", "a"), {
        maxLength: 6,
      })
      .map((parts) => parts.join("")),
  },
);

const u32 = fc.integer({ min: 0, max: U32 });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.constantFrom(0n, U64_MAX, 2n ** 53n + 1n));
const i64 = fc.oneof(fc.bigInt({ min: I64_MIN, max: I64_MAX }), fc.constantFrom(I64_MIN, I64_MAX, -1n, 0n));
/** A wrapper (UInt32Value): unset, zero, or any value. */
const wrapper = fc.oneof(fc.constant(undefined), fc.constant(0), u32);

export const timestamp: fc.Arbitrary<Timestamp> = fc.record({
  // 0001-01-01 … 9999-12-31, the range protobuf timestamps allow.
  seconds: fc.bigInt({ min: -62135596800n, max: 253402300799n }),
  nanos: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(100_000_000, 1, 999_999_999)),
});

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

const json: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    finite,
    fc.constantFrom(1e6, 1.5e-5, 123456, 0.0001, 1e21, -0),
    text,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(text, tie("value"), { maxKeys: 3 }),
  ),
})).value;
const jsonObject = fc.dictionary(text, json, { maxKeys: 4 }) as fc.Arbitrary<JsonObject>;

const sockaddr: fc.Arbitrary<SockAddr> = fc.oneof(
  fc.constant<SockAddr>({ saFamily: 0, sunPath: "", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 }),
  fc.record({
    // 17 (AF_PACKET) is not in Tracee's enum: it prints as its number.
    saFamily: fc.constantFrom(0, 1, 2, 10, 17) as fc.Arbitrary<SockAddr["saFamily"]>,
    sunPath: fc.oneof(fc.constant(""), text),
    sinAddr: fc.oneof(fc.constant(""), fc.ipV4()),
    sinPort: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
    sin6Addr: fc.oneof(fc.constant(""), fc.ipV6()),
    sin6Port: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
    sin6Flowinfo: fc.oneof(fc.constant(0), u32),
    sin6Scopeid: fc.oneof(fc.constant(0), u32),
  }),
);

const caps = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 4 });
const credentials: fc.Arbitrary<Credentials> = fc.record({
  uid: wrapper,
  gid: wrapper,
  suid: wrapper,
  sgid: wrapper,
  euid: wrapper,
  egid: wrapper,
  fsuid: wrapper,
  fsgid: wrapper,
  userNamespace: wrapper,
  secureBits: wrapper,
  capInheritable: caps,
  capPermitted: caps,
  capEffective: caps,
  capBounding: caps,
  capAmbient: caps,
});

const header = fc.record({ header: fc.array(text, { maxLength: 2 }) });
const headers = fc.dictionary(text, header, { maxKeys: 3 });
const optionalText = fc.oneof(fc.constant(""), text);
const optionalU32 = fc.oneof(fc.constant(0), u32);

/** A value of one kind, or none. */
export const eventValue: fc.Arbitrary<EventValue> = fc
  .tuple(
    text,
    fc.oneof(
      i32.map((int32) => ({ int32 })),
      i64.map((int64) => ({ int64 })),
      u32.map((uInt32) => ({ uInt32 })),
      u64.map((uInt64) => ({ uInt64 })),
      text.map((str) => ({ str })),
      fc.uint8Array({ maxLength: 12 }).map((b) => ({ bytes: Buffer.from(b) })),
      fc.boolean().map((bool) => ({ bool })),
      fc.array(text, { maxLength: 3 }).map((value) => ({ strArray: { value } })),
      fc.array(i32, { maxLength: 3 }).map((value) => ({ int32Array: { value } })),
      fc.array(u64, { maxLength: 3 }).map((value) => ({ uInt64Array: { value } })),
      sockaddr.map((s) => ({ sockaddr: s })),
      credentials.map((c) => ({ credentials: c })),
      fc.oneof(fc.constant(undefined), finite, fc.constantFrom(1e6, 1.5e-5)).map((value) => ({ timespec: { value } })),
      jsonObject.map((struct) => ({ struct })),
      u64.map((pointer) => ({ pointer })),
      fc
        .record({
          srcPort: optionalU32,
          dstPort: optionalU32,
          seq: optionalU32,
          ack: optionalU32,
          dataOffset: optionalU32,
          finFlag: optionalU32,
          synFlag: optionalU32,
          rstFlag: optionalU32,
          pshFlag: optionalU32,
          ackFlag: optionalU32,
          urgFlag: optionalU32,
          eceFlag: optionalU32,
          cwrFlag: optionalU32,
          nsFlag: optionalU32,
          window: optionalU32,
          checksum: optionalU32,
          urgent: optionalU32,
        })
        .map((tcp) => ({ tcp })),
      fc
        .record({
          direction: optionalText,
          method: optionalText,
          protocol: optionalText,
          host: optionalText,
          uriPath: optionalText,
          status: optionalText,
          statusCode: fc.oneof(fc.constant(0), i32),
          headers,
          contentLength: fc.oneof(fc.constant(0n), i64),
        })
        .map((http) => ({ http })),
      fc
        .record({
          srcIp: optionalText,
          dstIp: optionalText,
          srcPort: optionalU32,
          dstPort: optionalU32,
          protocol: optionalU32,
          packetLen: optionalU32,
          iface: optionalText,
          direction: fc.constantFrom(0, 1, 3),
        })
        .map((packetMetadata) => ({ packetMetadata })),
      fc
        .record({
          questions: fc.array(fc.record({ query: optionalText, queryType: optionalText, queryClass: optionalText }), {
            maxLength: 2,
          }),
        })
        .map((dnsQuestions) => ({ dnsQuestions })),
      fc.constant({}),
    ),
  )
  .map(([name, value]) => ({ name, ...value }) as EventValue);

const thread: fc.Arbitrary<Thread> = fc.record({
  startTime: fc.option(timestamp, { nil: undefined }),
  name: optionalText,
  uniqueId: wrapper,
  hostTid: wrapper,
  tid: wrapper,
  syscall: optionalText,
  compat: fc.boolean(),
  userStackTrace: fc.option(
    fc.record({ addresses: fc.array(fc.record({ address: u64, symbol: optionalText }), { maxLength: 2 }) }),
    { nil: undefined },
  ),
});

const process: fc.Arbitrary<Process> = fc.record({
  executable: fc.option(fc.record({ path: optionalText }), { nil: undefined }),
  uniqueId: wrapper,
  hostPid: wrapper,
  pid: wrapper,
  // Tracee prints a real user only when it has an id.
  realUser: fc.option(fc.record({ id: u32 }), { nil: undefined }),
  thread: fc.option(thread, { nil: undefined }),
  ancestors: fc.array(
    fc.record({
      executable: fc.constant(undefined),
      uniqueId: wrapper,
      hostPid: wrapper,
      pid: wrapper,
      realUser: fc.constant(undefined),
      thread: fc.constant(undefined),
      ancestors: fc.constant([]),
    }),
    { maxLength: 2 },
  ),
});

const container: fc.Arbitrary<Container> = fc.record({
  id: optionalText,
  name: optionalText,
  image: fc.option(fc.record({ id: optionalText, repoDigests: fc.array(text, { maxLength: 2 }), name: optionalText }), {
    nil: undefined,
  }),
  started: fc.boolean(),
});

const k8s: fc.Arbitrary<K8s> = fc.record({
  pod: fc.option(fc.record({ name: optionalText, uid: optionalText, labels: fc.dictionary(text, text, { maxKeys: 3 }) }), {
    nil: undefined,
  }),
  namespace: fc.option(fc.record({ name: optionalText }), { nil: undefined }),
});

const workload: fc.Arbitrary<Workload> = fc.record({
  process: fc.option(process, { nil: undefined }),
  container: fc.option(container, { nil: undefined }),
  k8s: fc.option(k8s, { nil: undefined }),
});

const threat: fc.Arbitrary<Threat> = fc.record({
  description: optionalText,
  mitre: fc.option(
    fc.record({
      tactic: fc.option(fc.record({ name: optionalText }), { nil: undefined }),
      technique: fc.option(fc.record({ id: optionalText, name: optionalText }), { nil: undefined }),
    }),
    { nil: undefined },
  ),
  severity: fc.integer({ min: 0, max: 4 }),
  name: optionalText,
  properties: fc.dictionary(text, text, { maxKeys: 3 }),
});

const detectedFrom: fc.Arbitrary<DetectedFrom> = fc.letrec<{ d: DetectedFrom }>((tie) => ({
  d: fc.record({
    id: u32,
    name: text,
    data: fc.array(eventValue, { maxLength: 2 }),
    parent: fc.option(tie("d"), { nil: undefined, depthSize: "small" }),
  }),
})).d;

/** An event Tracee could print. */
export const traceeEvent: fc.Arbitrary<TraceeEvent> = fc.record({
  timestamp: fc.option(timestamp, { nil: undefined }),
  id: fc.oneof(fc.integer({ min: 0, max: 9000 }), i32),
  name: text,
  policies: fc.option(fc.record({ matched: fc.array(text, { maxLength: 2 }) }), { nil: undefined }),
  workload: fc.option(workload, { nil: undefined }),
  data: fc.array(eventValue, { maxLength: 5 }),
  threat: fc.option(threat, { nil: undefined }),
  detectedFrom: fc.option(detectedFrom, { nil: undefined }),
});
