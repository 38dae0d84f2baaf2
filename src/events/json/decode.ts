/**
 * Reading Tracee's JSON (`tracee --output json`, webhook bodies) back into
 * {@link TraceeEvent}: the inverse of {@link encodeEventJson}, so that
 * printing a decoded line gives the line again.
 *
 * @module
 */
import type { JsonObject } from "type-fest";
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
import { parseExact } from "./exact-parse.js";
import { parseRfc3339 } from "./go-format.js";
import { PROTO_JSON_KINDS, type ProtoJsonKind, ProtoJsonError, readProtoJson } from "./proto-json.js";

const BRAND: unique symbol = Symbol.for("tracee-ds.EventJsonError");

/**
 * A line that is not an event in Tracee's JSON: `path` names the field
 * (`workload.process.host_pid`, `data[3].u_int64`; empty for the whole line),
 * `reason` says what is wrong with it. Test for it with {@link isEventJsonError}.
 */
export class EventJsonError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(path === "" ? reason : `${path}: ${reason}`, options);
    this.name = "EventJsonError";
  }
}

/** Whether `value` is an {@link EventJsonError} from any copy of this package. */
export function isEventJsonError(value: unknown): value is EventJsonError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

type Obj = Record<string, unknown>;

/** Thrown when a number needs more precision than JSON.parse kept: the line is read again exactly. */
class NeedsExactNumbers extends Error {}

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v === "bigint" ? "number" : typeof v} ${String(v)}`;
}

/**
 * Where a value is in the line. Built only when something fails: a function
 * for the paths inside `data`, which most lines have many of.
 */
type Path = string | (() => string);

const text = (path: Path): string => (typeof path === "string" ? path : path());

function at(path: Path, key: string): string {
  const p = text(path);
  return p === "" ? key : `${p}.${key}`;
}

/** `err` (an {@link EventJsonError} from a reader given a path relative to `prefix`) with the whole path. */
function under(prefix: string, err: unknown): unknown {
  if (!(err instanceof EventJsonError)) return err;
  const path = err.path === "" ? prefix : err.path.startsWith("[") ? `${prefix}${err.path}` : `${prefix}.${err.path}`;
  return new EventJsonError(path, err.reason, { cause: err.cause });
}

function fail(path: Path, expected: string, got: unknown, key?: string): never {
  throw new EventJsonError(key === undefined ? text(path) : at(path, key), `expected ${expected}, got ${describe(got)}`);
}

function object(v: unknown, path: Path, key?: string): Obj {
  return isObject(v) ? v : fail(path, "an object", v, key);
}

function string(v: unknown, path: Path, key?: string): string {
  return typeof v === "string" ? v : fail(path, "a string", v, key);
}

function optionalString(v: unknown, path: Path, key?: string): string {
  return v === undefined ? "" : string(v, path, key);
}

function boolean(v: unknown, path: Path, key?: string): boolean {
  return typeof v === "boolean" ? v : fail(path, "true or false", v, key);
}

function uint32(v: unknown, path: Path, key?: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  return fail(path, "an unsigned 32-bit integer", v, key);
}

function int32(v: unknown, path: Path, key?: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v;
  return fail(path, "a 32-bit integer", v, key);
}

const DECIMAL = /^-?(0|[1-9]\d*)$/;

/** A 64-bit integer printed as a decimal string (`"1657321027326584850"`). */
function int64String(v: unknown, path: Path, signed: boolean): bigint {
  if (typeof v !== "string" || !DECIMAL.test(v)) {
    return fail(path, `a${signed ? " " : "n unsigned "}64-bit integer as a decimal string`, v);
  }
  const n = BigInt(v);
  if ((signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n)) !== n) {
    throw new EventJsonError(text(path), `out of range for a${signed ? " " : "n unsigned "}64-bit integer: ${v}`);
  }
  return n;
}

/** A 64-bit integer printed as a bare number (stack addresses). */
function uint64Number(v: unknown, path: Path): bigint {
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) {
    if (!Number.isSafeInteger(v)) throw new NeedsExactNumbers();
    return BigInt(v);
  }
  return fail(path, "an unsigned 64-bit integer", v);
}

function timestamp(v: unknown, path: Path): Timestamp | undefined {
  const text = string(v, path);
  if (text === "null") return undefined; // Tracee prints a missing timestamp so
  return parseRfc3339(text) ?? fail(path, "an RFC 3339 time", v);
}

function strings(v: unknown, path: Path): string[] {
  if (!Array.isArray(v)) return fail(path, "an array of strings", v);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") fail(`${path}[${i}]`, "a string", v[i]);
  return v as string[];
}

/** A wrapper field (UInt32Value): absent is unset, 0 is set. */
const wrapped = (v: unknown, path: Path, key: string): number | undefined =>
  v === undefined ? undefined : uint32(v, path, key);

function readProcess(v: unknown, path: string): Process {
  const o = object(v, path);
  const executable = o["executable"];
  const realUser = o["real_user"];
  const thread = o["thread"];
  const ancestors = o["ancestors"];
  return {
    executable:
      executable === undefined
        ? undefined
        : { path: optionalString(object(executable, path, "executable")["path"], path, "executable.path") },
    uniqueId: wrapped(o["unique_id"], path, "unique_id"),
    hostPid: wrapped(o["host_pid"], path, "host_pid"),
    pid: wrapped(o["pid"], path, "pid"),
    realUser:
      realUser === undefined
        ? undefined
        : { id: wrapped(object(realUser, path, "real_user")["id"], path, "real_user.id") },
    thread: thread === undefined ? undefined : readThread(thread, at(path, "thread")),
    ancestors:
      ancestors === undefined
        ? []
        : Array.isArray(ancestors)
          ? ancestors.map((a, i) => readProcess(a, `${at(path, "ancestors")}[${i}]`))
          : fail(at(path, "ancestors"), "an array", ancestors),
  };
}

function readThread(v: unknown, path: string): Thread {
  const o = object(v, path);
  const start = o["start_time"];
  const compat = o["compat"];
  const stack = o["user_stack_trace"];
  let userStackTrace: Thread["userStackTrace"];
  if (stack !== undefined) {
    const sPath = at(path, "user_stack_trace");
    const addresses = object(stack, sPath)["addresses"];
    const aPath = at(sPath, "addresses");
    if (addresses !== undefined && !Array.isArray(addresses)) fail(aPath, "an array", addresses);
    userStackTrace = {
      addresses: (addresses ?? []).map((a: unknown, i: number) => {
        const entry = object(a, `${aPath}[${i}]`);
        return {
          address: uint64Number(entry["address"], `${aPath}[${i}].address`),
          symbol: optionalString(entry["symbol"], `${aPath}[${i}].symbol`),
        };
      }),
    };
  }
  return {
    startTime: start === undefined ? undefined : timestamp(start, at(path, "start_time")),
    name: optionalString(o["name"], path, "name"),
    uniqueId: wrapped(o["unique_id"], path, "unique_id"),
    hostTid: wrapped(o["host_tid"], path, "host_tid"),
    tid: wrapped(o["tid"], path, "tid"),
    syscall: optionalString(o["syscall"], path, "syscall"),
    compat: compat === undefined ? false : boolean(compat, path, "compat"),
    userStackTrace,
  };
}

function readContainer(v: unknown, path: string): Container {
  const o = object(v, path);
  const image = o["image"];
  let parsedImage: Container["image"];
  if (image !== undefined) {
    const iPath = at(path, "image");
    const i = object(image, iPath);
    const digests = i["repo_digests"];
    parsedImage = {
      id: optionalString(i["id"], iPath, "id"),
      repoDigests: digests === undefined ? [] : strings(digests, at(iPath, "repo_digests")),
      name: optionalString(i["name"], iPath, "name"),
    };
  }
  const started = o["started"];
  return {
    id: optionalString(o["id"], path, "id"),
    name: optionalString(o["name"], path, "name"),
    image: parsedImage,
    started: started === undefined ? false : boolean(started, path, "started"),
  };
}

/** A JSON object of strings (a Go map[string]string), keys kept as own properties. */
function stringMap(v: unknown, path: string): { [key: string]: string } {
  const o = object(v, path);
  for (const k of Object.keys(o)) string(o[k], at(path, k));
  return o as { [key: string]: string };
}

function readK8s(v: unknown, path: string): K8s {
  const o = object(v, path);
  const pod = o["pod"];
  const namespace = o["namespace"];
  let parsedPod: K8s["pod"];
  if (pod !== undefined) {
    const pPath = at(path, "pod");
    const p = object(pod, pPath);
    const labels = p["labels"];
    parsedPod = {
      name: optionalString(p["name"], pPath, "name"),
      uid: optionalString(p["uid"], pPath, "uid"),
      labels: labels === undefined ? {} : stringMap(labels, at(pPath, "labels")),
    };
  }
  return {
    pod: parsedPod,
    namespace:
      namespace === undefined
        ? undefined
        : { name: optionalString(object(namespace, path, "namespace")["name"], path, "namespace.name") },
  };
}

function readWorkload(v: unknown, path: string): Workload {
  const o = object(v, path);
  const process = o["process"];
  const container = o["container"];
  const k8s = o["k8s"];
  return {
    process: process === undefined ? undefined : readProcess(process, at(path, "process")),
    container: container === undefined ? undefined : readContainer(container, at(path, "container")),
    k8s: k8s === undefined ? undefined : readK8s(k8s, at(path, "k8s")),
  };
}

function readThreat(v: unknown, path: string): Threat {
  const o = object(v, path);
  const mitre = o["mitre"];
  let parsedMitre: Threat["mitre"];
  if (mitre !== undefined) {
    const mPath = at(path, "mitre");
    const m = object(mitre, mPath);
    const tactic = m["tactic"];
    const technique = m["technique"];
    parsedMitre = {
      tactic:
        tactic === undefined
          ? undefined
          : { name: optionalString(object(tactic, mPath, "tactic")["name"], mPath, "tactic.name") },
      technique:
        technique === undefined
          ? undefined
          : (() => {
              const tPath = at(mPath, "technique");
              const t = object(technique, tPath);
              return { id: optionalString(t["id"], tPath, "id"), name: optionalString(t["name"], tPath, "name") };
            })(),
    };
  }
  const properties = o["properties"];
  const severity = o["severity"];
  return {
    description: optionalString(o["description"], path, "description"),
    mitre: parsedMitre,
    severity: severity === undefined ? 0 : int32(severity, path, "severity"),
    name: optionalString(o["name"], path, "name"),
    properties: properties === undefined ? {} : stringMap(properties, at(path, "properties")),
  };
}

function readDetectedFrom(v: unknown, path: string): DetectedFrom {
  const o = object(v, path);
  const data = o["data"];
  const parent = o["parent"];
  return {
    id: uint32(o["id"] ?? 0, path, "id"),
    name: optionalString(o["name"], path, "name"),
    data: data === undefined ? [] : readData(data, at(path, "data")),
    parent: parent === undefined ? undefined : readDetectedFrom(parent, at(path, "parent")),
  };
}

const SA_FAMILIES: Readonly<Record<string, number>> = {
  SA_FAMILY_T_UNSPEC: saFamilyT.SA_FAMILY_T_UNSPEC,
  AF_UNIX: saFamilyT.AF_UNIX,
  AF_INET: saFamilyT.AF_INET,
  AF_INET6: saFamilyT.AF_INET6,
};

function readSockaddr(v: unknown, path: Path): SockAddr {
  const o = object(v, path);
  const family = o["sa_family"];
  let saFamily = 0;
  if (family !== undefined) {
    const name = string(family, path, "sa_family");
    saFamily = SA_FAMILIES[name] ?? (DECIMAL.test(name) ? Number(name) : fail(path, "an address family name", family, "sa_family"));
  }
  const num = (key: string) => (o[key] === undefined ? 0 : uint32(o[key], path, key));
  return {
    saFamily,
    sunPath: optionalString(o["sun_path"], path, "sun_path"),
    sinAddr: optionalString(o["sin_addr"], path, "sin_addr"),
    sinPort: num("sin_port"),
    sin6Addr: optionalString(o["sin6_addr"], path, "sin6_addr"),
    sin6Port: num("sin6_port"),
    sin6Flowinfo: num("sin6_flowinfo"),
    sin6Scopeid: num("sin6_scopeid"),
  };
}

function readCredentials(v: unknown, path: Path): Credentials {
  const o = object(v, path);
  const caps = (key: string): number[] => {
    const list = o[key];
    if (list === undefined) return [];
    if (!Array.isArray(list)) return fail(path, "an array of capability numbers", list, key);
      return list.map((c, i) => int32(c, () => `${at(path, key)}[${i}]`));
  };
  return {
    uid: wrapped(o["uid"], path, "uid"),
    gid: wrapped(o["gid"], path, "gid"),
    suid: wrapped(o["suid"], path, "suid"),
    sgid: wrapped(o["sgid"], path, "sgid"),
    euid: wrapped(o["euid"], path, "euid"),
    egid: wrapped(o["egid"], path, "egid"),
    fsuid: wrapped(o["fsuid"], path, "fsuid"),
    fsgid: wrapped(o["fsgid"], path, "fsgid"),
    userNamespace: wrapped(o["user_namespace"], path, "user_namespace"),
    secureBits: wrapped(o["secure_bits"], path, "secure_bits"),
    capInheritable: caps("cap_inheritable"),
    capPermitted: caps("cap_permitted"),
    capEffective: caps("cap_effective"),
    capBounding: caps("cap_bounding"),
    capAmbient: caps("cap_ambient"),
  };
}

/** `{}` for an empty list, else `{"value":[…]}`. */
function arrayValue<T>(v: unknown, path: Path, item: (x: unknown, path: Path) => T): T[] {
  const o = object(v, path);
  const list = o["value"];
  if (list === undefined) return [];
  if (!Array.isArray(list)) return fail(path, "an array", list, "value");
  const out = new Array<T>(list.length);
  let i = 0;
  try {
    for (; i < list.length; i++) out[i] = item(list[i], "");
  } catch (err) {
    throw under(`${at(path, "value")}[${i}]`, err);
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const PROTO_MEMBERS: Readonly<Record<ProtoJsonKind, keyof EventValue>> = {
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
};

const uint64String = (x: unknown, p: Path) => int64String(x, p, false);

/** Reads one `{"name":N,"<kind>":V}`; error paths are relative to it. */
function readEventValue(v: unknown): EventValue {
  const o = object(v, "");
  const name = optionalString(o["name"], "name");
  let kind: string | undefined;
  for (const key in o) {
    if (key !== "name") {
      if (kind !== undefined) throw new EventJsonError("", `holds two values, ${kind} and ${key}`);
      kind = key;
    }
  }
  if (kind === undefined) return { name };
  const value = o[kind];
  const vPath = kind;
  switch (kind) {
    case "str":
      return { name, str: string(value, vPath) };
    case "int32":
      return { name, int32: int32(value, vPath) };
    case "u_int32":
      return { name, uInt32: uint32(value, vPath) };
    case "int64":
      return { name, int64: int64String(value, vPath, true) };
    case "u_int64":
      return { name, uInt64: int64String(value, vPath, false) };
    case "pointer":
      return { name, pointer: int64String(value, vPath, false) };
    case "bool":
      return { name, bool: boolean(value, vPath) };
    case "bytes": {
      const b64 = string(value, vPath);
      if (!BASE64.test(b64)) fail(vPath, "base64", value);
      return { name, bytes: Buffer.from(b64, "base64") };
    }
    case "str_array":
      return { name, strArray: { value: arrayValue(value, vPath, string) } };
    case "int32_array":
      return { name, int32Array: { value: arrayValue(value, vPath, int32) } };
    case "u_int64_array":
      return { name, uInt64Array: { value: arrayValue(value, vPath, uint64String) } };
    case "sockaddr":
      return { name, sockaddr: readSockaddr(value, vPath) };
    case "credentials":
      return { name, credentials: readCredentials(value, vPath) };
    case "timespec": {
      if (value === null) return { name, timespec: { value: undefined } };
      const seconds = object(value, vPath)["value"];
      if (typeof seconds !== "number") fail(vPath, "a number", seconds, "value");
      return { name, timespec: { value: seconds } };
    }
    case "struct":
      return { name, struct: object(value, vPath) as JsonObject };
    case "value":
      if (value !== null) fail(vPath, "null (a value with no kind)", value);
      return { name };
    default: {
      const schema = PROTO_JSON_KINDS[kind as ProtoJsonKind];
      if (schema === undefined) throw new EventJsonError(vPath, `unknown kind of event value "${kind}"`);
      try {
        return { name, [PROTO_MEMBERS[kind as ProtoJsonKind]]: readProtoJson(schema, value, vPath) } as EventValue;
      } catch (err) {
        if (err instanceof ProtoJsonError) throw new EventJsonError(err.path, err.reason);
        throw err;
      }
    }
  }
}

function readData(v: unknown, path: string): EventValue[] {
  if (!Array.isArray(v)) return fail(path, "an array of event values", v);
  const out = new Array<EventValue>(v.length);
  let i = 0;
  try {
    for (; i < v.length; i++) out[i] = readEventValue(v[i]);
  } catch (err) {
    throw under(`${path}[${i}]`, err);
  }
  return out;
}

function readEvent(o: Obj): TraceeEvent {
  const policies = o["policies"];
  const workload = o["workload"];
  const data = o["data"];
  const threat = o["threat"];
  const detectedFrom = o["detected_from"];
  const id = o["id"];
  let matched: unknown;
  if (policies !== undefined) matched = object(policies, "policies")["matched"];
  // One literal with every member, as ts-proto builds an Event: one shape for V8.
  return {
    timestamp: o["timestamp"] === undefined ? undefined : timestamp(o["timestamp"], "timestamp"),
    id: id === undefined ? 0 : int32(id, "id"),
    name: optionalString(o["name"], "name"),
    policies:
      policies === undefined ? undefined : { matched: matched === undefined ? [] : strings(matched, "policies.matched") },
    workload: workload === undefined ? undefined : readWorkload(workload, "workload"),
    data: data === undefined ? [] : readData(data, "data"),
    threat: threat === undefined ? undefined : readThreat(threat, "threat"),
    detectedFrom: detectedFrom === undefined ? undefined : readDetectedFrom(detectedFrom, "detected_from"),
  };
}

/**
 * Reads one line of Tracee's JSON (`tracee --output json`, a webhook body)
 * as a {@link TraceeEvent}.
 *
 * The inverse of {@link encodeEventJson}: printing the result gives the line
 * again, byte for byte (Go maps aside, which Tracee prints in random order).
 * 64-bit integers come back as `bigint`, timestamps as `{ seconds, nanos }`
 * exact to the nanosecond. Unknown keys are skipped, so newer Tracee versions
 * still read. Throws an {@link EventJsonError} naming the field
 * (`data[3].u_int64: expected an unsigned 64-bit integer as a decimal string, got number 5`)
 * for a line that is not JSON or not an event.
 *
 * @example
 * ```ts
 * const event = decodeEventJson(line);
 * event.name; // "security_file_open"
 * getData(event, "pathname", "str"); // "/tmp/testing.txt"
 * ```
 */
export function decodeEventJson(line: string): TraceeEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new EventJsonError("", `not JSON: ${(err as Error).message}`, { cause: err });
  }
  const root = object(parsed, "");
  try {
    return readEvent(root);
  } catch (err) {
    if (!(err instanceof NeedsExactNumbers)) throw err;
  }
  // A 64-bit number JSON.parse rounded: read the line again, exactly.
  return readEvent(parseExact(line) as Obj);
}

/** The result of {@link safeDecodeEventJson}. */
export type DecodeEventResult = { readonly ok: true; readonly event: TraceeEvent } | { readonly ok: false; readonly error: EventJsonError };

/** {@link decodeEventJson} that returns the error instead of throwing it. */
export function safeDecodeEventJson(line: string): DecodeEventResult {
  try {
    return { ok: true, event: decodeEventJson(line) };
  } catch (err) {
    if (isEventJsonError(err)) return { ok: false, error: err };
    throw err;
  }
}
