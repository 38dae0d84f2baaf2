/**
 * Tracee's JSON printer (`Event.MarshalJSON` in Tracee's api/v1beta1), in
 * TypeScript: what `tracee --output json` prints and webhook bodies carry.
 * Not protojson: a hand-written printer with its own rules, reproduced here
 * byte for byte.
 *
 * @module
 */
import type { JsonValue } from "type-fest";
import type { Timestamp } from "../../gen/google/protobuf/timestamp.js";
import { saFamilyT } from "../../gen/tracee/v1beta1/event_data.js";
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
  TraceeEvent,
  Workload,
} from "../model.js";
import { goFloat, rfc3339Nano, tsString } from "./go-format.js";
import { PROTO_JSON_KINDS, printProtoJson } from "./proto-json.js";

const SA_FAMILY_NAMES: Readonly<Record<number, string>> = {
  [saFamilyT.SA_FAMILY_T_UNSPEC]: "SA_FAMILY_T_UNSPEC",
  [saFamilyT.AF_UNIX]: "AF_UNIX",
  [saFamilyT.AF_INET]: "AF_INET",
  [saFamilyT.AF_INET6]: "AF_INET6",
};

/** Tracee's missing timestamp prints as the string "null". */
const timestamp = (ts: Timestamp | undefined) => (ts === undefined ? "null" : rfc3339Nano(ts));

/** A list of strings as Tracee writes it. */
const strings = (items: readonly string[]) => items.map(tsString).join(",");

/** Joins `key:value` parts that are present (Tracee writes a comma only between parts). */
function object(parts: (string | undefined)[]): string {
  let out = "";
  for (const part of parts) if (part !== undefined) out += out === "" ? part : `,${part}`;
  return `{${out}}`;
}

function writeProcess(p: Process): string {
  return object([
    p.executable === undefined ? undefined : `"executable":{"path":${tsString(p.executable.path)}}`,
    p.uniqueId === undefined ? undefined : `"unique_id":${p.uniqueId}`,
    p.hostPid === undefined ? undefined : `"host_pid":${p.hostPid}`,
    p.pid === undefined ? undefined : `"pid":${p.pid}`,
    p.realUser?.id === undefined ? undefined : `"real_user":{"id":${p.realUser.id}}`,
    p.thread === undefined ? undefined : `"thread":${writeThread(p.thread)}`,
    p.ancestors.length === 0 ? undefined : `"ancestors":[${p.ancestors.map(writeProcess).join(",")}]`,
  ]);
}

function writeThread(t: Thread): string {
  return object([
    t.startTime === undefined ? undefined : `"start_time":"${timestamp(t.startTime)}"`,
    t.name === "" ? undefined : `"name":${tsString(t.name)}`,
    t.uniqueId === undefined ? undefined : `"unique_id":${t.uniqueId}`,
    t.hostTid === undefined ? undefined : `"host_tid":${t.hostTid}`,
    t.tid === undefined ? undefined : `"tid":${t.tid}`,
    t.syscall === "" ? undefined : `"syscall":${tsString(t.syscall)}`,
    t.compat ? `"compat":true` : undefined,
    t.userStackTrace === undefined
      ? undefined
      : `"user_stack_trace":{"addresses":[${t.userStackTrace.addresses
          .map((a) => `{"address":${a.address},"symbol":${tsString(a.symbol)}}`)
          .join(",")}]}`,
  ]);
}

function writeContainer(c: Container): string {
  let out = `{"id":${tsString(c.id)},"name":${tsString(c.name)}`;
  if (c.image !== undefined) {
    out += `,"image":{"id":${tsString(c.image.id)}`;
    if (c.image.repoDigests.length > 0) out += `,"repo_digests":[${strings(c.image.repoDigests)}]`;
    out += `,"name":${tsString(c.image.name)}}`;
  }
  return `${out},"started":${c.started}}`;
}

/** A Go map's entries, in the order the object holds them (Go's own order is random). */
const stringMap = (map: Readonly<Record<string, string>>) =>
  Object.keys(map)
    .map((k) => `${tsString(k)}:${tsString(map[k] ?? "")}`)
    .join(",");

function writeK8s(k: K8s): string {
  let pod: string | undefined;
  if (k.pod !== undefined) {
    pod = `"pod":{"name":${tsString(k.pod.name)},"uid":${tsString(k.pod.uid)}`;
    if (Object.keys(k.pod.labels).length > 0) pod += `,"labels":{${stringMap(k.pod.labels)}}`;
    pod += "}";
  }
  return object([pod, k.namespace === undefined ? undefined : `"namespace":{"name":${tsString(k.namespace.name)}}`]);
}

function writeWorkload(w: Workload): string {
  return object([
    w.process === undefined ? undefined : `"process":${writeProcess(w.process)}`,
    w.container === undefined ? undefined : `"container":${writeContainer(w.container)}`,
    w.k8s === undefined ? undefined : `"k8s":${writeK8s(w.k8s)}`,
  ]);
}

function writeThreat(t: Threat): string {
  let out = `{"description":${tsString(t.description)}`;
  if (t.mitre !== undefined) {
    const { tactic, technique } = t.mitre;
    out += `,"mitre":${object([
      tactic === undefined ? undefined : `"tactic":{"name":${tsString(tactic.name)}}`,
      technique === undefined
        ? undefined
        : `"technique":{"id":${tsString(technique.id)},"name":${tsString(technique.name)}}`,
    ])}`;
  }
  out += `,"severity":${t.severity},"name":${tsString(t.name)}`;
  if (Object.keys(t.properties).length > 0) out += `,"properties":{${stringMap(t.properties)}}`;
  return `${out}}`;
}

function writeDetectedFrom(d: DetectedFrom): string {
  let out = `{"id":${d.id},"name":${tsString(d.name)}`;
  if (d.data.length > 0) out += `,"data":[${d.data.map(writeEventValue).join(",")}]`;
  if (d.parent !== undefined) out += `,"parent":${writeDetectedFrom(d.parent)}`;
  return `${out}}`;
}

function writeSockaddr(sa: SockAddr): string {
  if (
    sa.saFamily === 0 &&
    sa.sunPath === "" &&
    sa.sinAddr === "" &&
    sa.sinPort === 0 &&
    sa.sin6Addr === "" &&
    sa.sin6Port === 0 &&
    sa.sin6Flowinfo === 0 &&
    sa.sin6Scopeid === 0
  ) {
    return "{}";
  }
  // Go's enum String(): the name, or the number for a value it does not know.
  return object([
    `"sa_family":"${SA_FAMILY_NAMES[sa.saFamily] ?? sa.saFamily}"`,
    sa.sunPath === "" ? undefined : `"sun_path":${tsString(sa.sunPath)}`,
    sa.sinAddr === "" ? undefined : `"sin_addr":${tsString(sa.sinAddr)}`,
    sa.sinPort === 0 ? undefined : `"sin_port":${sa.sinPort}`,
    sa.sin6Addr === "" ? undefined : `"sin6_addr":${tsString(sa.sin6Addr)}`,
    sa.sin6Port === 0 ? undefined : `"sin6_port":${sa.sin6Port}`,
    sa.sin6Flowinfo === 0 ? undefined : `"sin6_flowinfo":${sa.sin6Flowinfo}`,
    sa.sin6Scopeid === 0 ? undefined : `"sin6_scopeid":${sa.sin6Scopeid}`,
  ]);
}

const CREDENTIAL_IDS = [
  ["uid", "uid"],
  ["gid", "gid"],
  ["suid", "suid"],
  ["sgid", "sgid"],
  ["euid", "euid"],
  ["egid", "egid"],
  ["fsuid", "fsuid"],
  ["fsgid", "fsgid"],
  ["user_namespace", "userNamespace"],
  ["secure_bits", "secureBits"],
] as const;
const CAPABILITY_SETS = [
  ["cap_inheritable", "capInheritable"],
  ["cap_permitted", "capPermitted"],
  ["cap_effective", "capEffective"],
  ["cap_bounding", "capBounding"],
  ["cap_ambient", "capAmbient"],
] as const;

function writeCredentials(c: Credentials): string {
  const parts: (string | undefined)[] = CREDENTIAL_IDS.map(([json, member]) =>
    c[member] === undefined ? undefined : `"${json}":${c[member]}`,
  );
  for (const [json, member] of CAPABILITY_SETS) {
    if (c[member].length > 0) parts.push(`"${json}":[${c[member].join(",")}]`);
  }
  return object(parts);
}

/** A `google.protobuf.Struct` as Tracee writes it: plain JSON, numbers in Go's `%g` form. */
function writeJson(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "number":
      return goFloat(v);
    case "string":
      return tsString(v);
    case "boolean":
      return v ? "true" : "false";
    default:
      if (Array.isArray(v)) return `[${v.map(writeJson).join(",")}]`;
      return `{${Object.keys(v)
        .map((k) => `${tsString(k)}:${writeJson((v as { [key: string]: JsonValue | undefined })[k])}`)
        .join(",")}}`;
  }
}

const arrayValue = (items: readonly unknown[], item: (x: never) => string) =>
  items.length === 0 ? "{}" : `{"value":[${items.map(item as (x: unknown) => string).join(",")}]}`;

/** One EventValue: `{"name":N,"<kind>":V}`, or `"value":null` when it holds no kind. */
function writeEventValue(v: EventValue): string {
  const head = `{"name":${tsString(v.name)}`;
  // In field order, so a hand-made value with several members set prints
  // the one kindOf() reports.
  if (v.int32 !== undefined) return `${head},"int32":${v.int32}}`;
  if (v.int64 !== undefined) return `${head},"int64":"${v.int64}"}`;
  if (v.uInt32 !== undefined) return `${head},"u_int32":${v.uInt32}}`;
  if (v.uInt64 !== undefined) return `${head},"u_int64":"${v.uInt64}"}`;
  if (v.str !== undefined) return `${head},"str":${tsString(v.str)}}`;
  if (v.bytes !== undefined) return `${head},"bytes":"${Buffer.from(v.bytes).toString("base64")}"}`;
  if (v.bool !== undefined) return `${head},"bool":${v.bool}}`;
  if (v.strArray !== undefined) return `${head},"str_array":${arrayValue(v.strArray.value, tsString)}}`;
  if (v.int32Array !== undefined) return `${head},"int32_array":${arrayValue(v.int32Array.value, String)}}`;
  if (v.uInt64Array !== undefined) {
    return `${head},"u_int64_array":${arrayValue(v.uInt64Array.value, (n: bigint) => `"${n}"`)}}`;
  }
  if (v.sockaddr !== undefined) return `${head},"sockaddr":${writeSockaddr(v.sockaddr)}}`;
  if (v.credentials !== undefined) return `${head},"credentials":${writeCredentials(v.credentials)}}`;
  if (v.timespec !== undefined) {
    const value = v.timespec.value;
    return `${head},"timespec":${value === undefined ? "null" : `{"value":${goFloat(value)}}`}}`;
  }
  for (const kind of PROTO_KINDS) {
    const value = v[PROTO_MEMBERS[kind]];
    if (value !== undefined) {
      return `${head},"${kind}":${printProtoJson(PROTO_JSON_KINDS[kind], value as unknown as Record<string, unknown>)}}`;
    }
  }
  if (v.struct !== undefined) return `${head},"struct":${writeJson(v.struct)}}`;
  if (v.pointer !== undefined) return `${head},"pointer":"${v.pointer}"}`;
  return `${head},"value":null}`;
}

const PROTO_MEMBERS = {
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
} as const satisfies Record<keyof typeof PROTO_JSON_KINDS, keyof EventValue>;
const PROTO_KINDS = Object.keys(PROTO_MEMBERS) as (keyof typeof PROTO_MEMBERS)[];

/**
 * Prints `event` exactly as Tracee's JSON printer does: one line, no newline.
 *
 * Snake_case keys in Tracee's order (timestamp, id, name, policies,
 * workload, data, threat, detected_from); RFC 3339 timestamps with trailing
 * zeros trimmed (a missing one prints `"null"`); 64-bit integers and pointers
 * as decimal strings; bytes as base64; network, DNS and HTTP values as
 * protojson. Go maps (pod labels, threat properties, structs) print in the
 * order the objects hold their keys; Tracee's own order is random.
 *
 * @example
 * ```ts
 * const line = encodeEventJson(event); // '{"timestamp":"2023-05-28T14:46:21.0281669Z","id":1015,"name":"sched_process_exec",…}'
 * ```
 */
export function encodeEventJson(event: TraceeEvent): string {
  let out = `{"timestamp":"${timestamp(event.timestamp)}","id":${event.id},"name":${tsString(event.name)}`;
  if (event.policies !== undefined) out += `,"policies":{"matched":[${strings(event.policies.matched)}]}`;
  if (event.workload !== undefined) out += `,"workload":${writeWorkload(event.workload)}`;
  if (event.data.length > 0) out += `,"data":[${event.data.map(writeEventValue).join(",")}]`;
  if (event.threat !== undefined) out += `,"threat":${writeThreat(event.threat)}`;
  if (event.detectedFrom !== undefined) out += `,"detected_from":${writeDetectedFrom(event.detectedFrom)}`;
  return `${out}}`;
}
