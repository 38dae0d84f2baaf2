/**
 * Legacy `trace.Event` ↔ v1beta1 {@link TraceeEvent}, following Tracee's own
 * conversion (`pkg/events/conversion.go`), and the event a legacy signature
 * receives.
 *
 * @module
 */
import type { Event } from "../../detect/signature.js";
import type { Timestamp } from "../../gen/google/protobuf/timestamp.js";
import type { DetectedFrom, EventValue, Process, Thread, Threat, TraceeEvent, Workload } from "../model.js";
import { Severity } from "../model.js";
import { argToEventValue, eventValueToArg, exactInteger, goSprint, integer, INT64, jsonInteger, RETURN_VALUE } from "./args.js";
import { DETECTED_FROM, detectedFromOf, detectedFromToArg, integerOf } from "./detected-from.js";
import { at, LegacyEventJsonError } from "./errors.js";
import { isSyscallEvent, v1beta1EventId } from "./ids.js";
import type { LegacyEvent, LegacyJsonValue, LegacyMetadata } from "./types.js";

const NS_PER_SECOND = 1_000_000_000n;

/** `time.Unix(0, ns)` as a protobuf timestamp: nanos always 0–999,999,999. */
function timestampOf(ns: bigint): Timestamp {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  return { seconds, nanos: Number(nanos) };
}

const nanosecondsOf = (ts: Timestamp | undefined): bigint =>
  ts === undefined ? 0n : ts.seconds * NS_PER_SECOND + BigInt(ts.nanos);

/** Go's `uint32(n)`: wraps like the wrapper fields Tracee fills. */
const u32 = (n: number): number => n >>> 0;

/** Properties `getThreat` turns into fields rather than copying into `threat.properties`. */
const THREAT_FIELDS = new Set(["Category", "external_id", "Technique", "Severity", "signatureName"]);

const SEVERITIES = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL] as const;

/**
 * Tracee's `getThreat`: a finding's metadata as a threat, or `undefined` when
 * its properties have no `Severity` (then it is not a threat).
 */
function threatOf(m: LegacyMetadata): Threat | undefined {
  const p = m.Properties;
  if (!Object.hasOwn(p, "Severity")) return undefined;
  const text = (key: string): string => {
    const v = p[key];
    return typeof v === "string" ? v : "";
  };
  const level = exactInteger(p["Severity"]);
  return {
    description: m.Description,
    mitre: {
      tactic: { name: text("Category") },
      technique: { id: text("external_id"), name: text("Technique") },
    },
    severity: level !== undefined && level >= 0n && level <= 4n ? SEVERITIES[Number(level)]! : Severity.INFO,
    name: text("signatureName"),
    properties: Object.fromEntries(
      Object.entries(p)
        .filter(([key]) => !THREAT_FIELDS.has(key))
        .map(([key, v]) => [key, goSprint(v)]),
    ),
  };
}

/** A threat back as a finding's metadata: the inverse of {@link threatOf} as far as it goes. */
function metadataOf(t: Threat): LegacyMetadata {
  const properties: { [key: string]: LegacyJsonValue } = Object.fromEntries(Object.entries(t.properties));
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== "") properties[key] = value;
  };
  put("Category", t.mitre?.tactic?.name);
  put("Technique", t.mitre?.technique?.name);
  put("external_id", t.mitre?.technique?.id);
  put("signatureName", t.name);
  properties["Severity"] = t.severity;
  return { Version: "", Description: t.description, Tags: [], Properties: properties };
}

const DECIMAL = /^-?(?:0|[1-9]\d*)$/;

/**
 * Converts a legacy `trace.Event` to the v1beta1 event model, the way
 * Tracee's `ConvertTraceeEventToProto` does.
 *
 * - `timestamp` and `threadStartTime` (nanoseconds) become `{ seconds, nanos }`,
 *   exactly; a zero time is left unset.
 * - `eventName` → `name`; `eventId` → `id`: a built-in event (internal id
 *   0–2999) gets its v1beta1 `EventId` by name (`openat`: 257 → 258), any
 *   other id (signatures 6000+) is kept.
 * - When `processId` or `processName` is set: `workload.process` with `pid`,
 *   `hostPid`, `uniqueId` (processEntityId), `realUser.id` (userId),
 *   `executable` (when its path is set), and `thread` with `name`
 *   (processName), `tid`, `hostTid`, `uniqueId` (threadEntityId), `syscall`,
 *   `compat` (contextFlags.isCompat), `startTime` and `userStackTrace`
 *   (stackAddresses). The parent becomes `ancestors[0]` only when
 *   `parentEntityId` is set, as in Tracee.
 * - `container.id` set: `workload.container` with `name`, `image.name`,
 *   `image.repoDigests` (imageDigest) and `started`
 *   (contextFlags.containerStarted). `kubernetes.podName` set:
 *   `workload.k8s` with pod name and uid and namespace.
 * - `matchedPolicies` → `policies.matched` (when not empty).
 * - `args` → `data`, each argument's kind from its type name and JSON value
 *   (`"int"` → `int32`, `"unsigned long"` → `u_int64`, `"const char*"` →
 *   `str`, `"void*"` with a number → `pointer`, `"trace.ProtoTCP"` → `tcp`, …;
 *   the table is in docs/legacy-events.md). An argument named `detectedFrom`
 *   becomes `detectedFrom` instead.
 * - `returnValue` → a last `returnValue` (int64) data entry, as Tracee's
 *   event definitions have it: always for a system call, otherwise when not
 *   0; never for a signature finding (its returnValue is the triggering
 *   event's), nor when `args` already has one.
 * - `metadata` with a `Severity` property → `threat` (Tracee's `getThreat`):
 *   `Description`, `Severity` 0–4, `Category` → MITRE tactic, `Technique` and
 *   `external_id` → technique, `signatureName` → name, every other property
 *   as a string in `properties`.
 *
 * `cgroupId`, `processorId`, the namespaces, `hostName`, `podSandbox`,
 * `argsNum` and a finding's `Version` and `Tags` have no place in the v1beta1
 * event and are dropped, as in Tracee.
 *
 * Throws a {@link LegacyEventJsonError} when an argument's value does not fit
 * its type (the checks {@link decodeLegacyEventJson} already made).
 *
 * @example
 * ```ts
 * const event = legacyToEvent(decodeLegacyEventJson(line));
 * event.name; // "openat"
 * event.timestamp; // { seconds: 1657321167n, nanos: 356729582 }
 * event.data[0]; // { name: "dirfd", int32: -100 }
 * ```
 */
export function legacyToEvent(legacy: LegacyEvent): TraceeEvent {
  if (!DECIMAL.test(legacy.eventId)) {
    throw new LegacyEventJsonError("eventId", `expected an event id as a decimal string, got ${JSON.stringify(legacy.eventId)}`);
  }
  const name = legacy.eventName;
  const event: TraceeEvent = {
    timestamp: legacy.timestamp === 0n ? undefined : timestampOf(legacy.timestamp),
    id: v1beta1EventId(Number(legacy.eventId), name),
    name,
    workload: undefined,
    data: [],
  };

  const workload: Workload = {};
  if (legacy.processId !== 0 || legacy.processName !== "") {
    const thread: Thread = {
      startTime: legacy.threadStartTime === 0n ? undefined : timestampOf(legacy.threadStartTime),
      name: legacy.processName,
      uniqueId: u32(legacy.threadEntityId),
      hostTid: u32(legacy.hostThreadId),
      tid: u32(legacy.threadId),
      syscall: legacy.syscall,
      compat: legacy.contextFlags.isCompat,
      ...(legacy.stackAddresses.length === 0
        ? {}
        : { userStackTrace: { addresses: legacy.stackAddresses.map((address) => ({ address, symbol: "" })) } }),
    };
    const process: Process = {
      ...(legacy.executable.path === "" ? {} : { executable: { path: legacy.executable.path } }),
      uniqueId: u32(legacy.processEntityId),
      hostPid: u32(legacy.hostProcessId),
      pid: u32(legacy.processId),
      realUser: { id: u32(legacy.userId) },
      thread,
      ancestors:
        legacy.parentEntityId === 0
          ? []
          : [
              {
                uniqueId: u32(legacy.parentEntityId),
                hostPid: u32(legacy.hostParentProcessId),
                pid: u32(legacy.parentProcessId),
                ancestors: [],
              },
            ],
    };
    workload.process = process;
  }
  const { container, kubernetes } = legacy;
  if (container.id !== "") {
    workload.container = {
      id: container.id,
      name: container.name,
      image:
        container.image === ""
          ? undefined
          : { id: "", name: container.image, repoDigests: container.imageDigest === "" ? [] : [container.imageDigest] },
      started: legacy.contextFlags.containerStarted,
    };
  }
  if (kubernetes.podName !== "") {
    workload.k8s = {
      pod: { name: kubernetes.podName, uid: kubernetes.podUID, labels: {} },
      namespace: { name: kubernetes.podNamespace },
    };
  }
  if (workload.process !== undefined || workload.container !== undefined || workload.k8s !== undefined) {
    event.workload = workload;
  }

  if (legacy.matchedPolicies.length > 0) event.policies = { matched: [...legacy.matchedPolicies] };
  if (legacy.metadata !== undefined) {
    const threat = threatOf(legacy.metadata);
    if (threat !== undefined) event.threat = threat;
  }

  let detectedFrom: DetectedFrom | undefined;
  const data: EventValue[] = [];
  legacy.args.forEach((arg, i) => {
    const path = `args[${i}]`;
    if (arg.name === DETECTED_FROM) detectedFrom ??= detectedFromOf(arg.value, at(path, "value"));
    else data.push(argToEventValue(arg, path));
  });
  const rv = integer(legacy.returnValue, INT64, "returnValue");
  if (
    legacy.metadata === undefined &&
    !data.some((d) => d.name === RETURN_VALUE) &&
    (rv !== 0n || isSyscallEvent(name))
  ) {
    data.push({ name: RETURN_VALUE, int64: rv });
  }
  event.data = data;
  if (detectedFrom !== undefined) event.detectedFrom = detectedFrom;
  return event;
}

/**
 * Converts a v1beta1 event to a legacy `trace.Event`, so that a legacy
 * signature (a `Signature<LegacyEvent>`, written against Tracee's
 * `trace.Event` payload) can receive it. The inverse of {@link legacyToEvent} as far as the v1beta1
 * model carries the facts.
 *
 * What comes back: times to the nanosecond, process, thread and parent ids,
 * names, entity ids, `syscall`, the context flags, container and pod,
 * `matchedPolicies`, `stackAddresses`, `eventName`, the arguments (values
 * exact; a `returnValue` data entry becomes `returnValue`; `detectedFrom`
 * becomes the `detectedFrom` argument), and a threat as `metadata`.
 *
 * What cannot come back:
 * - `cgroupId`, `processorId`, `mountNamespace`, `pidNamespace`, `hostName`
 *   and `kubernetes.podSandbox` are not in the v1beta1 event: 0, `""`, `false`.
 * - `eventId` is the v1beta1 id (`"258"` for openat), as Tracee's
 *   `ConvertFromProto` gives it; Tracee's internal id differs by version and
 *   architecture.
 * - Argument type names are chosen by kind (`int32` → `"int"`, `u_int64` →
 *   `"unsigned long"`, `str` → `"const char*"`, `pointer` → `"void*"`, …),
 *   not the original C names (`"dev_t"` comes back `"unsigned int"`).
 * - `metadata.Version` and `Tags` are empty, and every property other than
 *   `Severity` is a string (the threat kept them as strings).
 * - The parent's ids are 0 when the event has no `ancestors`; `returnValue`
 *   is 0 for a finding.
 *
 * @example
 * ```ts
 * const legacy = eventToLegacy(event);
 * legacy.eventName; // "openat"
 * legacy.hostProcessId; // 2578238
 * legacy.args[1]; // { name: "pathname", type: "const char*", value: "/tmp/testing.txt" }
 * ```
 */
export function eventToLegacy(event: TraceeEvent): LegacyEvent {
  const process = event.workload?.process;
  const thread = process?.thread;
  const parent = process?.ancestors[0];
  const container = event.workload?.container;
  const k8s = event.workload?.k8s;
  const args = event.data.filter((d) => d.name !== RETURN_VALUE).map(eventValueToArg);
  if (event.detectedFrom !== undefined) args.push(detectedFromToArg(event.detectedFrom));
  return {
    timestamp: nanosecondsOf(event.timestamp),
    threadStartTime: nanosecondsOf(thread?.startTime),
    processorId: 0,
    processId: process?.pid ?? 0,
    cgroupId: 0n,
    threadId: thread?.tid ?? 0,
    parentProcessId: parent?.pid ?? 0,
    hostProcessId: process?.hostPid ?? 0,
    hostThreadId: thread?.hostTid ?? 0,
    hostParentProcessId: parent?.hostPid ?? 0,
    userId: process?.realUser?.id ?? 0,
    mountNamespace: 0,
    pidNamespace: 0,
    processName: thread?.name ?? "",
    executable: { path: process?.executable?.path ?? "" },
    hostName: "",
    containerId: container?.id ?? "",
    container: {
      id: container?.id ?? "",
      name: container?.name ?? "",
      image: container?.image?.name ?? "",
      imageDigest: container?.image?.repoDigests[0] ?? "",
    },
    kubernetes: {
      podName: k8s?.pod?.name ?? "",
      podNamespace: k8s?.namespace?.name ?? "",
      podUID: k8s?.pod?.uid ?? "",
      podSandbox: false,
    },
    eventId: String(event.id),
    eventName: event.name,
    matchedPolicies: [...(event.policies?.matched ?? [])],
    argsNum: args.length,
    returnValue: jsonInteger(integerOf(event.data.find((d) => d.name === RETURN_VALUE)) ?? 0n),
    syscall: thread?.syscall ?? "",
    stackAddresses: (thread?.userStackTrace?.addresses ?? []).map((a) => a.address),
    contextFlags: { containerStarted: container?.started ?? false, isCompat: thread?.compat ?? false },
    threadEntityId: thread?.uniqueId ?? 0,
    processEntityId: process?.uniqueId ?? 0,
    parentEntityId: parent?.uniqueId ?? 0,
    args,
    ...(event.threat === undefined ? {} : { metadata: metadataOf(event.threat) }),
  };
}

/**
 * Where a legacy event happened, as Tracee's `trace.Event.Origin` derives it.
 *
 * @example
 * ```ts
 * const origin: LegacyEventOrigin = legacyOrigin(decodeLegacyEventJson(line)); // "host"
 * ```
 */
export type LegacyEventOrigin = "host" | "container" | "container-init";

/**
 * Where a legacy event happened, as Tracee derives it (`trace.Event.Origin`):
 * `"container"` once the container's entry point has started
 * (`contextFlags.containerStarted`), `"container-init"` in a container that
 * has not started yet (a `container.id` but not started), else `"host"`.
 *
 * @example
 * ```ts
 * legacyOrigin(decodeLegacyEventJson(line)); // "container"
 * ```
 */
export function legacyOrigin(event: LegacyEvent): LegacyEventOrigin {
  if (event.contextFlags.containerStarted) return "container";
  if (event.container.id !== "") return "container-init";
  return "host";
}

/**
 * The event a legacy signature receives for `event` (Tracee's
 * `trace.Event.ToProtocol`): headers with the selector
 * `{ source: "tracee", name: eventName, origin }` the engine matches
 * `getSelectedEvents()` against, and the legacy event as the payload.
 *
 * A v1beta1 event is converted with {@link eventToLegacy} first; a legacy
 * one is the payload as it is (not copied). The origin is
 * {@link legacyOrigin}'s.
 *
 * @example
 * ```ts
 * const delivered = legacySignatureEvent(decodeLegacyEventJson(line));
 * delivered.headers.selector; // { source: "tracee", name: "New executable dropped", origin: "container" }
 * await signature.onEvent(delivered);
 * ```
 */
export function legacySignatureEvent(event: TraceeEvent | LegacyEvent): Event<LegacyEvent> {
  const payload = "eventName" in event ? event : eventToLegacy(event);
  return {
    headers: { selector: { source: "tracee", name: payload.eventName, origin: legacyOrigin(payload) } },
    payload,
  };
}
