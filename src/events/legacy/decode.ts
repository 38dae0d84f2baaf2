/**
 * Reading one line of legacy `trace.Event` JSON into a {@link LegacyEvent}.
 *
 * @module
 */
import { parseExact } from "../json/exact-parse.js";
import { argToEventValue, exactInteger, integer, INT32, INT64, jsonInteger, UINT32, UINT64 } from "./args.js";
import { detectedFromOf, DETECTED_FROM } from "./detected-from.js";
import { at, fail, LegacyEventJsonError } from "./errors.js";
import type { LegacyArgument, LegacyEvent, LegacyJsonValue, LegacyMetadata } from "./types.js";

type Obj = { [key: string]: LegacyJsonValue };

const isObj = (v: LegacyJsonValue | undefined): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON value Go would decode into its zero value: absent or `null`. */
const absent = (v: LegacyJsonValue | undefined): v is undefined | null => v === undefined || v === null;

function string(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (absent(v)) return "";
  return typeof v === "string" ? v : fail(at(path, key), "a string", v);
}

function boolean(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (absent(v)) return false;
  return typeof v === "boolean" ? v : fail(at(path, key), "true or false", v);
}

/** A Go `int` the SDK keeps as a number (ids, pids): any integer within ±(2^53 − 1). */
function int(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (absent(v)) return 0;
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  return fail(at(path, key), "an integer", v);
}

function uint32(o: Obj, key: string, path: string): number {
  const v = o[key];
  return absent(v) ? 0 : Number(integer(v, UINT32, at(path, key)));
}

function bigint(o: Obj, key: string, path: string, range: typeof INT64, what: string): bigint {
  const v = o[key];
  return absent(v) ? 0n : integer(v, { ...range, what }, at(path, key));
}

function object(o: Obj, key: string, path: string): Obj {
  const v = o[key];
  if (absent(v)) return {};
  return isObj(v) ? v : fail(at(path, key), "an object", v);
}

function array(o: Obj, key: string, path: string): LegacyJsonValue[] {
  const v = o[key];
  if (absent(v)) return [];
  return Array.isArray(v) ? v : fail(at(path, key), "an array", v);
}

function strings(o: Obj, key: string, path: string): string[] {
  return array(o, key, path).map((s, i) => (typeof s === "string" ? s : fail(`${at(path, key)}[${i}]`, "a string", s)));
}

const DECIMAL = /^-?(?:0|[1-9]\d*)$/;

/** `eventId`: Go writes it as a string (`json:"eventId,string"`); a bare number is read too. */
function eventId(o: Obj): string {
  const v = o["eventId"];
  if (v === undefined) throw new LegacyEventJsonError("eventId", "missing (every trace.Event has one)");
  const what = 'a 32-bit event id as a decimal string ("257")';
  const n = typeof v === "string" ? (DECIMAL.test(v) ? BigInt(v) : undefined) : exactInteger(v);
  if (n === undefined || n < INT32.min || n > INT32.max) return fail("eventId", what, v);
  return String(n);
}

function args(o: Obj): LegacyArgument[] {
  return array(o, "args", "").map((a, i): LegacyArgument => {
    const path = `args[${i}]`;
    if (!isObj(a)) return fail(path, "an argument ({ name, type, value })", a);
    const arg: LegacyArgument = { name: string(a, "name", path), type: string(a, "type", path), value: a["value"] ?? null };
    // Check the value against the type now, so a bad line fails here rather than when converted.
    if (arg.name === DETECTED_FROM) detectedFromOf(arg.value, at(path, "value"));
    else argToEventValue(arg, path);
    return arg;
  });
}

function metadata(v: LegacyJsonValue | undefined): LegacyMetadata | undefined {
  if (absent(v)) return undefined;
  if (!isObj(v)) return fail("metadata", "an object (Version, Description, Tags, Properties)", v);
  return {
    Version: string(v, "Version", "metadata"),
    Description: string(v, "Description", "metadata"),
    Tags: strings(v, "Tags", "metadata"),
    Properties: object(v, "Properties", "metadata"),
  };
}

/**
 * A parsed legacy event object as a {@link LegacyEvent}: checked field by
 * field, defaults filled in, older layouts moved to the newer one.
 *
 * @internal
 */
export function readLegacyEvent(root: LegacyJsonValue): LegacyEvent {
  if (!isObj(root)) return fail("", "a JSON object (one trace.Event)", root);
  if (root["eventName"] === undefined) {
    const hint =
      root["name"] !== undefined && root["data"] !== undefined
        ? ' (this looks like a v1beta1 event, with "name" and "data": read it with decodeEventJson)'
        : "";
    throw new LegacyEventJsonError("eventName", `missing (every trace.Event has one)${hint}`);
  }
  const eventName = string(root, "eventName", "");
  if (root["timestamp"] === undefined) throw new LegacyEventJsonError("timestamp", "missing (every trace.Event has one)");
  const timestamp = bigint(root, "timestamp", "", INT64, "an integer (nanoseconds since the epoch)");

  const container = object(root, "container", "");
  const kubernetes = object(root, "kubernetes", "");
  // Older versions printed these at the top level; newer ones in container{} and kubernetes{}.
  const either = (inner: Obj, key: string, innerPath: string, outer: string): string =>
    string(inner, key, innerPath) || string(root, outer, "");
  const containerId = either(container, "id", "container", "containerId");

  const returnValue = root["returnValue"];
  return {
    timestamp,
    threadStartTime: bigint(root, "threadStartTime", "", INT64, "an integer (nanoseconds)"),
    processorId: int(root, "processorId", ""),
    processId: int(root, "processId", ""),
    cgroupId: bigint(root, "cgroupId", "", UINT64, "an unsigned 64-bit integer"),
    threadId: int(root, "threadId", ""),
    parentProcessId: int(root, "parentProcessId", ""),
    hostProcessId: int(root, "hostProcessId", ""),
    hostThreadId: int(root, "hostThreadId", ""),
    hostParentProcessId: int(root, "hostParentProcessId", ""),
    userId: int(root, "userId", ""),
    mountNamespace: int(root, "mountNamespace", ""),
    pidNamespace: int(root, "pidNamespace", ""),
    processName: string(root, "processName", ""),
    executable: { path: string(object(root, "executable", ""), "path", "executable") },
    hostName: string(root, "hostName", ""),
    containerId,
    container: {
      id: containerId,
      name: either(container, "name", "container", "containerName"),
      image: either(container, "image", "container", "containerImage"),
      imageDigest: string(container, "imageDigest", "container"),
    },
    kubernetes: {
      podName: either(kubernetes, "podName", "kubernetes", "podName"),
      podNamespace: either(kubernetes, "podNamespace", "kubernetes", "podNamespace"),
      podUID: either(kubernetes, "podUID", "kubernetes", "podUID"),
      podSandbox: boolean(kubernetes, "podSandbox", "kubernetes") || boolean(root, "podSandbox", ""),
    },
    eventId: eventId(root),
    eventName,
    matchedPolicies: strings(root, "matchedPolicies", ""),
    argsNum: int(root, "argsNum", ""),
    returnValue: absent(returnValue) ? 0 : jsonInteger(integer(returnValue, INT64, "returnValue")),
    syscall: string(root, "syscall", ""),
    stackAddresses: array(root, "stackAddresses", "").map((a, i) => integer(a, UINT64, `stackAddresses[${i}]`)),
    contextFlags: {
      containerStarted: boolean(object(root, "contextFlags", ""), "containerStarted", "contextFlags"),
      isCompat: boolean(object(root, "contextFlags", ""), "isCompat", "contextFlags"),
    },
    threadEntityId: uint32(root, "threadEntityId", ""),
    processEntityId: uint32(root, "processEntityId", ""),
    parentEntityId: uint32(root, "parentEntityId", ""),
    args: args(root),
    ...(absent(root["metadata"]) ? {} : { metadata: metadata(root["metadata"]) }),
  };
}

/**
 * Reads one line of Tracee's legacy `trace.Event` JSON (what `tracee analyze`
 * reads, what older Tracee versions printed, what legacy signatures receive)
 * as a {@link LegacyEvent}.
 *
 * Integers beyond 2^53 keep every digit: nanosecond timestamps come back as
 * exact `bigint`s. Both layouts are read: the older one with
 * `containerId`/`containerImage`/`podName`/… at the top level and the newer
 * one with `container{}` and `kubernetes{}`; the result always has the newer.
 * Absent and `null` fields get Go's zero values; unknown keys are ignored.
 * `eventName`, `eventId` and `timestamp` are required.
 *
 * Each argument's value is checked against its type (an `"int"` must fit 32
 * bits, a `"trace.ProtoTCP"` needs numeric ports, `"bytes"` must be base64),
 * by the rules {@link legacyToEvent} converts with.
 *
 * Throws a {@link LegacyEventJsonError} naming the field
 * (`args[2].value: expected a 32-bit integer for type "int", got number 5000000000`)
 * for a line that is not JSON or not a legacy event.
 *
 * @example
 * ```ts
 * const event = decodeLegacyEventJson(
 *   '{"timestamp":1657321167356729582,"eventId":"257","eventName":"openat","hostProcessId":2578238,' +
 *     '"args":[{"name":"pathname","type":"const char*","value":"/tmp/testing.txt"}]}',
 * );
 * event.timestamp; // 1657321167356729582n, to the nanosecond
 * event.args[0]?.value; // "/tmp/testing.txt"
 * ```
 */
export function decodeLegacyEventJson(line: string): LegacyEvent {
  let parsed: LegacyJsonValue;
  try {
    parsed = parseExact(line);
  } catch (err) {
    throw new LegacyEventJsonError("", `not JSON: ${(err as Error).message}`, { cause: err });
  }
  return readLegacyEvent(parsed);
}
