/**
 * Events for tests, filled the way Tracee fills them.
 *
 * @module
 */
import type { JsonObject } from "type-fest";
import { EventId } from "../gen/tracee/v1beta1/event.js";
import type {
  Container,
  DetectedFrom,
  EventValue,
  K8s,
  Process,
  Threat,
  Timestamp,
  TraceeEvent,
} from "../events/model.js";

/** A data value {@link buildEvent} turns into an {@link EventValue} by its JavaScript type. */
export type BuildDataValue = string | number | bigint | boolean | readonly string[] | Uint8Array | JsonObject | null;

/** The process (and thread) facts {@link buildEvent} fills in. */
export interface BuildProcess {
  readonly pid?: number;
  readonly hostPid?: number;
  readonly tid?: number;
  readonly hostTid?: number;
  /** The thread name (`comm`). */
  readonly comm?: string;
  readonly executable?: string;
  readonly uid?: number;
  readonly entityId?: number;
  readonly syscall?: string;
  readonly ancestors?: readonly Process[];
}

/** Options of {@link buildEvent}. */
export interface BuildEventOptions {
  /**
   * The arguments: {@link EventValue}s as they are, or a record whose values
   * get a kind from their type (string → `str`, an integer → `int32` when it
   * fits else `int64`, bigint → `u_int64` (`int64` when negative), boolean →
   * `bool`, string[] → `str_array`, Uint8Array → `bytes`, an object →
   * `struct`, null → no value).
   */
  readonly data?: readonly EventValue[] | Readonly<Record<string, BuildDataValue>>;
  /** Default: now. A `Date`, a bigint of nanoseconds since the epoch, or a timestamp. */
  readonly timestamp?: Timestamp | Date | bigint;
  /** Default: the `EventId` of `name`, or 0 for a name Tracee does not know. */
  readonly id?: number;
  /** Matched policies (default `["default"]`). */
  readonly policies?: readonly string[];
  /** Process facts (default: pid 1000, comm "test", uid 0). */
  readonly process?: BuildProcess;
  /** A container (default: none, the host). `started` defaults to true. */
  readonly container?: Partial<Container> & { readonly id: string };
  readonly k8s?: K8s;
  readonly threat?: Threat;
  readonly detectedFrom?: DetectedFrom;
}

function timestampOf(value: BuildEventOptions["timestamp"]): Timestamp {
  if (value === undefined) value = new Date();
  if (value instanceof Date) {
    const ms = value.getTime();
    return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
  }
  if (typeof value === "bigint") return { seconds: value / 1_000_000_000n, nanos: Number(value % 1_000_000_000n) };
  return value;
}

function valueOf(name: string, value: BuildDataValue): EventValue {
  if (value === null) return { name };
  if (typeof value === "string") return { name, str: value };
  if (typeof value === "boolean") return { name, bool: value };
  if (typeof value === "bigint") return value < 0n ? { name, int64: value } : { name, uInt64: value };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new TypeError(`data.${name}: ${value} is not an integer; pass an EventValue for other kinds`);
    return value >= -0x80000000 && value <= 0x7fffffff ? { name, int32: value } : { name, int64: BigInt(value) };
  }
  if (value instanceof Uint8Array) return { name, bytes: Buffer.from(value) };
  if (Array.isArray(value)) return { name, strArray: { value: [...(value as readonly string[])] } };
  return { name, struct: value as JsonObject };
}

/**
 * An event as Tracee would send it: a timestamp, the id Tracee gives `name`,
 * matched policies, a process with its thread, and the arguments given.
 *
 * @example
 * ```ts
 * const open = buildEvent("security_file_open", { data: { pathname: "/etc/shadow", flags: "O_RDONLY" }, process: { comm: "cat" } });
 * const inContainer = buildEvent("sched_process_exec", { container: { id: "abc123" } });
 * ```
 */
export function buildEvent(name: string, options: BuildEventOptions = {}): TraceeEvent {
  const p = options.process ?? {};
  const pid = p.pid ?? 1000;
  const process: Process = {
    executable: p.executable === undefined ? undefined : { path: p.executable },
    uniqueId: p.entityId ?? 0,
    hostPid: p.hostPid ?? pid,
    pid,
    realUser: { id: p.uid ?? 0 },
    thread: {
      startTime: undefined,
      name: p.comm ?? "test",
      uniqueId: p.entityId ?? 0,
      hostTid: p.hostTid ?? p.hostPid ?? pid,
      tid: p.tid ?? pid,
      syscall: p.syscall ?? "",
      compat: false,
      userStackTrace: undefined,
    },
    ancestors: [...(p.ancestors ?? [])],
  };
  const data = options.data;
  const known = (EventId as unknown as Record<string, number | undefined>)[name];
  return {
    timestamp: timestampOf(options.timestamp),
    id: options.id ?? (typeof known === "number" && known >= 0 ? known : 0),
    name,
    policies: { matched: [...(options.policies ?? ["default"])] },
    workload: {
      process,
      container:
        options.container === undefined
          ? undefined
          : { name: "", image: undefined, started: true, ...options.container },
      k8s: options.k8s,
    },
    data:
      data === undefined
        ? []
        : Array.isArray(data)
          ? [...(data as readonly EventValue[])]
          : Object.entries(data as Readonly<Record<string, BuildDataValue>>).map(([k, v]) => valueOf(k, v)),
    threat: options.threat,
    detectedFrom: options.detectedFrom,
  };
}
