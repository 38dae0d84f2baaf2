/**
 * Tracee's event, as this SDK hands it out: the message `tracee.v1beta1.Event`
 * generated from the protos (so what arrives over gRPC needs no second model),
 * with its `struct` values typed as JSON instead of `any`.
 *
 * @module
 */
import type { JsonObject } from "type-fest";
import type { Timestamp } from "../gen/google/protobuf/timestamp.js";
import {
  type Container,
  type ContainerImage,
  type DetectedFrom as GenDetectedFrom,
  type Event as GenEvent,
  EventId,
  type Executable,
  type K8s,
  type K8sNamespace,
  type Pod,
  type Policies,
  type Process,
  type StackAddress,
  type Thread,
  type User,
  type UserStackTrace,
  type Workload,
} from "../gen/tracee/v1beta1/event.js";
import type {
  Capability,
  Credentials,
  DNS,
  DnsQuestions,
  DnsResponses,
  EventValue as GenEventValue,
  HookedSeqOps,
  HookedSyscalls,
  HTTP,
  HTTPRequest,
  HTTPResponse,
  ICMP,
  ICMPv6,
  Int32Array as Int32ArrayMessage,
  IPv4,
  IPv6,
  PacketMetadata,
  SockAddr,
  StringArray,
  TCP,
  Timespec,
  UDP,
  UInt64Array,
} from "../gen/tracee/v1beta1/event_data.js";
import { saFamilyT } from "../gen/tracee/v1beta1/event_data.js";
import { type Mitre, type MitreTactic, type MitreTechnique, Severity, type Threat } from "../gen/tracee/v1beta1/threat.js";

export {
  type Capability,
  type Container,
  type ContainerImage,
  type Credentials,
  type DNS,
  type DnsQuestions,
  type DnsResponses,
  EventId,
  type Executable,
  type HookedSeqOps,
  type HookedSyscalls,
  type HTTP,
  type HTTPRequest,
  type HTTPResponse,
  type ICMP,
  type ICMPv6,
  type Int32ArrayMessage,
  type IPv4,
  type IPv6,
  type K8s,
  type K8sNamespace,
  type Mitre,
  type MitreTactic,
  type MitreTechnique,
  type PacketMetadata,
  type Pod,
  type Policies,
  type Process,
  saFamilyT as SaFamily,
  Severity,
  type SockAddr,
  type StackAddress,
  type StringArray,
  type TCP,
  type Thread,
  type Threat,
  type Timespec,
  type Timestamp,
  type UDP,
  type UInt64Array,
  type User,
  type UserStackTrace,
  type Workload,
};

/**
 * One argument of an event: its `name` and exactly one value member, named
 * as Tracee's JSON names its kind (`str`, `u_int64`, `sockaddr`, …; see
 * {@link EventValueKinds}). Go: `*v1beta1.EventValue`.
 */
export type EventValue = Omit<GenEventValue, "struct"> & {
  /** Anything without a dedicated member, as a JSON object. */
  struct?: JsonObject | undefined;
};

/** For a derived or detected event, the event it was produced from. Go: `*v1beta1.DetectedFrom`. */
export type DetectedFrom = Omit<GenDetectedFrom, "data" | "parent"> & {
  data: EventValue[];
  parent: DetectedFrom | undefined;
};

/**
 * Tracee's event (`tracee.v1beta1.Event`): what `tracee --output json`
 * prints, what its gRPC `StreamEvents` sends and what detectors receive.
 *
 * Key on `name`, not `id`: events produced by detectors get ids assigned at
 * run time (7500 and up), legacy signature events 6000 and up.
 */
export type TraceeEvent = Omit<GenEvent, "data" | "detectedFrom"> & {
  /** The event's arguments, in the order Tracee's definition lists them. */
  data: EventValue[];
  /** For a derived or detected event, the event it was produced from. */
  detectedFrom?: DetectedFrom | undefined;
};

/**
 * What each kind of {@link EventValue} holds, keyed by the kind's name in
 * Tracee's JSON: the type {@link getData} returns for it. Arrays come back
 * as plain arrays (`str_array` → `string[]`), a timespec as its seconds.
 */
export interface EventValueKinds {
  int32: number;
  int64: bigint;
  u_int32: number;
  u_int64: bigint;
  str: string;
  bytes: Uint8Array;
  bool: boolean;
  str_array: string[];
  int32_array: number[];
  u_int64_array: bigint[];
  sockaddr: SockAddr;
  credentials: Credentials;
  /** Seconds, as a float (Tracee's `Timespec.value`). */
  timespec: number;
  hooked_syscalls: HookedSyscalls;
  hooked_seq_ops: HookedSeqOps;
  ipv4: IPv4;
  ipv6: IPv6;
  tcp: TCP;
  udp: UDP;
  icmp: ICMP;
  icmpv6: ICMPv6;
  dns: DNS;
  dns_questions: DnsQuestions;
  dns_responses: DnsResponses;
  packet_metadata: PacketMetadata;
  http: HTTP;
  http_request: HTTPRequest;
  http_response: HTTPResponse;
  struct: JsonObject;
  pointer: bigint;
}

/** The name of a kind of {@link EventValue}, as Tracee's JSON spells it (`"u_int64"`). */
export type EventValueKind = keyof EventValueKinds;

/** The {@link EventValue} member that holds each kind (`u_int64` → `uInt64`). @internal */
export const KIND_MEMBERS = {
  int32: "int32",
  int64: "int64",
  u_int32: "uInt32",
  u_int64: "uInt64",
  str: "str",
  bytes: "bytes",
  bool: "bool",
  str_array: "strArray",
  int32_array: "int32Array",
  u_int64_array: "uInt64Array",
  sockaddr: "sockaddr",
  credentials: "credentials",
  timespec: "timespec",
  hooked_syscalls: "hookedSyscalls",
  hooked_seq_ops: "hookedSeqOps",
  ipv4: "ipv4",
  ipv6: "ipv6",
  tcp: "tcp",
  udp: "udp",
  icmp: "icmp",
  icmpv6: "icmpv6",
  dns: "dns",
  dns_questions: "dnsQuestions",
  dns_responses: "dnsResponses",
  packet_metadata: "packetMetadata",
  http: "http",
  http_request: "httpRequest",
  http_response: "httpResponse",
  struct: "struct",
  pointer: "pointer",
} as const satisfies Record<EventValueKind, keyof EventValue>;

/** Every kind, in the order of their field numbers. */
export const EVENT_VALUE_KINDS = Object.keys(KIND_MEMBERS) as readonly EventValueKind[];

/** The member of {@link EventValue} a kind lives in. */
export type KindMember<K extends EventValueKind> = (typeof KIND_MEMBERS)[K];

/**
 * The kind an {@link EventValue} holds, or `undefined` when it holds none.
 * When a hand-made value sets several members, the first in field order wins.
 */
export function kindOf(value: EventValue): EventValueKind | undefined {
  for (const kind of EVENT_VALUE_KINDS) {
    if (value[KIND_MEMBERS[kind]] !== undefined) return kind;
  }
  return undefined;
}
