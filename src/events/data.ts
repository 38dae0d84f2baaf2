/**
 * Reading an event's arguments by name: `getData` / `getDataSafe` in the
 * spirit of Tracee's `GetData[T]` / `GetDataSafe[T]`, typed per kind, with an
 * opt-in tolerant mode for what Tracee's `decoded-data` enrichment rewrites.
 *
 * @module
 */
import { type EventValue, type EventValueKind, type EventValueKinds, KIND_MEMBERS, kindOf } from "./model.js";

/** Anything with event arguments: a {@link TraceeEvent}, or a `DetectedFrom` of one. */
export interface HasData {
  readonly data: readonly EventValue[];
}

/** Options of {@link getData} and {@link getDataSafe}. */
export interface GetDataOptions {
  /**
   * Accept what Tracee's `--enrichment decoded-data` (and `fd-paths`) turns
   * raw values into, converting back (default `false`: the exact kind only).
   *
   * - A number asked for (`int32`, `u_int32`, `int64`, `u_int64`, `pointer`):
   *   another integer kind in range, a `str` holding `"0x…"` (a decoded
   *   pointer), a decimal, or `"3=/path"` (an fd with its path) all give the
   *   number. Flags decoded to names (`"O_RDONLY|O_CLOEXEC"`) cannot be
   *   turned back: they count as the wrong kind.
   * - A `str` asked for: an integer gives its decimal text, a `pointer` its
   *   `"0x…"` text (as decoded-data prints it).
   */
  readonly tolerant?: boolean;
}

const BRAND: unique symbol = Symbol.for("tracee-ds.EventDataError");

/** Why {@link getDataSafe} found no value: the argument is missing, or holds another kind. */
export class EventDataError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** `"not-found"` or `"wrong-kind"`. */
    readonly code: "not-found" | "wrong-kind",
    /** The argument asked for. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "EventDataError";
  }
}

/** Whether `value` is an {@link EventDataError} from any copy of this package. */
export function isEventDataError(value: unknown): value is EventDataError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** The result of {@link getDataSafe}. */
export type DataResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: EventDataError };

const INTEGER_KINDS = new Set<EventValueKind>(["int32", "u_int32", "int64", "u_int64", "pointer"]);
const RANGES: Partial<Record<EventValueKind, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  u_int32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  u_int64: [0n, 2n ** 64n - 1n],
  pointer: [0n, 2n ** 64n - 1n],
};

/** The argument's value as an integer, whatever integer kind or decoded string holds it. */
function integerOf(value: EventValue, kind: EventValueKind | undefined): bigint | undefined {
  switch (kind) {
    case "int32":
    case "u_int32":
      return BigInt(value[KIND_MEMBERS[kind]] as number);
    case "int64":
    case "u_int64":
    case "pointer":
      return value[KIND_MEMBERS[kind]] as bigint;
    case "str": {
      const text = value.str as string;
      const match = /^(?:0x([0-9a-fA-F]+)|(-?\d+))(?:=.*)?$/s.exec(text);
      if (match === null) return undefined;
      return match[1] !== undefined ? BigInt(`0x${match[1]}`) : BigInt(match[2] as string);
    }
    default:
      return undefined;
  }
}

/** The value `value` holds as `kind`, converted when tolerant; `undefined` when it cannot be. */
function extract<K extends EventValueKind>(value: EventValue, kind: K, tolerant: boolean): EventValueKinds[K] | undefined {
  const member = KIND_MEMBERS[kind];
  const raw = value[member];
  if (raw !== undefined) return unwrap(kind, raw) as EventValueKinds[K];
  if (!tolerant) return undefined;
  const actual = kindOf(value);
  if (INTEGER_KINDS.has(kind)) {
    const n = integerOf(value, actual);
    const range = RANGES[kind];
    if (n === undefined || range === undefined || n < range[0] || n > range[1]) return undefined;
    return (kind === "int32" || kind === "u_int32" ? Number(n) : n) as EventValueKinds[K];
  }
  if (kind === "str" && actual !== undefined && INTEGER_KINDS.has(actual)) {
    const n = integerOf(value, actual) as bigint;
    return (actual === "pointer" ? `0x${n.toString(16)}` : n.toString()) as EventValueKinds[K];
  }
  return undefined;
}

/** Arrays come out of their wrapper message, a timespec as its seconds. */
function unwrap(kind: EventValueKind, raw: unknown): unknown {
  switch (kind) {
    case "str_array":
    case "int32_array":
    case "u_int64_array":
      return (raw as { value: unknown[] }).value;
    case "timespec":
      return (raw as { value: number | undefined }).value ?? 0;
    default:
      return raw;
  }
}

function find(source: HasData, name: string): EventValue | undefined {
  const data = source.data;
  for (let i = 0; i < data.length; i++) {
    const value = data[i] as EventValue;
    if (value.name === name) return value;
  }
  return undefined;
}

/**
 * The argument `name` of `event` as `kind`, or `undefined` when it is missing
 * or holds another kind. Go: `GetData[T](event, name) (T, bool)`.
 *
 * `kind` is the kind's name in Tracee's JSON, and types the result: `"str"`
 * → `string`, `"u_int64"` → `bigint`, `"str_array"` → `string[]`,
 * `"sockaddr"` → the `SockAddr` message. Exact by default; pass
 * `{ tolerant: true }` to read values Tracee's `decoded-data` enrichment
 * rewrote (see {@link GetDataOptions.tolerant}).
 *
 * @example
 * ```ts
 * const path = getData(event, "pathname", "str"); // string | undefined
 * const fd = getData(event, "fd", "int32", { tolerant: true }); // 3, also from "3=/etc/passwd"
 * ```
 */
export function getData<K extends EventValueKind>(
  event: HasData,
  name: string,
  kind: K,
  options?: GetDataOptions,
): EventValueKinds[K] | undefined {
  const value = find(event, name);
  return value === undefined ? undefined : extract(value, kind, options?.tolerant === true);
}

/**
 * {@link getData} that says why it found nothing: a result with the value,
 * or an {@link EventDataError} (`"not-found"`, or `"wrong-kind"` naming the
 * kind the argument holds). Go: `GetDataSafe[T](event, name) (T, error)`.
 *
 * @example
 * ```ts
 * const pid = getDataSafe(event, "pid", "int32");
 * if (!pid.ok) throw pid.error; // field "pid" holds u_int32, not int32
 * ```
 */
export function getDataSafe<K extends EventValueKind>(
  event: HasData,
  name: string,
  kind: K,
  options?: GetDataOptions,
): DataResult<EventValueKinds[K]> {
  const value = find(event, name);
  if (value === undefined) {
    return { ok: false, error: new EventDataError("not-found", name, `field "${name}" not found in event data`) };
  }
  const extracted = extract(value, kind, options?.tolerant === true);
  if (extracted !== undefined) return { ok: true, value: extracted };
  const actual = kindOf(value);
  const holds = actual === undefined ? "no value" : actual === "str" ? `str ${JSON.stringify(value.str)}` : actual;
  return {
    ok: false,
    error: new EventDataError("wrong-kind", name, `field "${name}" holds ${holds}, not ${kind}`),
  };
}

/** What {@link eventData} maps a name to: a kind's value, or `null` for an argument without one. */
export type EventDataValue = EventValueKinds[EventValueKind] | null;

/**
 * Every argument of `event` as a plain `name → value` record, each value
 * unwrapped as {@link getData} would return it for its own kind (`null` for
 * an argument without a value). A repeated name keeps its first value, as
 * {@link getData} finds it.
 *
 * @example
 * ```ts
 * const { pathname, flags } = eventData(event); // { pathname: "/tmp/x", flags: "O_RDONLY", … }
 * ```
 */
export function eventData(event: HasData): Record<string, EventDataValue> {
  const out: Record<string, EventDataValue> = {};
  for (const value of event.data) {
    if (Object.prototype.hasOwnProperty.call(out, value.name)) continue;
    const kind = kindOf(value);
    // An own property even for "__proto__": never a prototype change.
    Object.defineProperty(out, value.name, {
      value: kind === undefined ? null : unwrap(kind, value[KIND_MEMBERS[kind]]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
