/**
 * A legacy signature (`detect.Signature`) as an engine participant: the
 * selectors Tracee's signature engine matches, the legacy event it delivers,
 * and each finding turned into the v1beta1 event Tracee makes of it.
 *
 * Follows Tracee's Go sources: `pkg/signatures/engine/engine.go` (selector
 * index, dispatch, the source-complete signal), `pkg/events/findings`
 * (`FindingToEvent`: the finding as a `trace.Event`), `pkg/events/conversion.go`
 * and `conversion_legacy.go` (that event as a `v1beta1.Event`: its data kinds,
 * `getThreat`, `getDetectedFrom`) and `pkg/cmd/initialize/sigs` (the ids
 * signature events get, 6000 and up).
 *
 * @module
 */
import type { JsonObject, JsonValue } from "type-fest";
import {
  type Event,
  type Finding,
  type GetDataSource,
  type Logger,
  type Signature,
  type SignatureContext,
  SOURCE_COMPLETE_TRACEE,
} from "../detect/signature.js";
import { goSprint } from "../events/legacy/args.js";
import { eventToLegacy, legacyToEvent } from "../events/legacy/convert.js";
import { integerOf } from "../events/legacy/detected-from.js";
import { isSyscallEvent } from "../events/legacy/ids.js";
import type { LegacyEvent } from "../events/legacy/types.js";
import {
  type DetectedFrom,
  type EventValue,
  SaFamily,
  Severity,
  type SockAddr,
  type Threat,
  type TraceeEvent,
} from "../events/model.js";
import type { Emit, Participant } from "./participant.js";

// ---------------------------------------------------------------------------
// Event ids

/** The first id of a signature's event. Go: `events.StartSignatureID`. */
export const START_SIGNATURE_ID = 6000;

/**
 * The ids Tracee gives the events of `signatures` (Go: `allocateEventIdsForSigs`):
 * `start` + the signature's index, by its `eventName`; when two signatures
 * produce the same name, the later one's id wins, and the index still counts
 * both. A signature whose `getMetadata` throws gets no id (Tracee skips it)
 * but still does not count. Pass the result as `eventIdFor`.
 *
 * @example
 * ```ts
 * const eventIdFor = signatureEventIds([antiDebugging, droppedExecutable]);
 * eventIdFor("Anti-Debugging detected"); // 6000
 * ```
 */
export function signatureEventIds(
  signatures: readonly Signature[],
  start: number = START_SIGNATURE_ID,
): (eventName: string) => number | undefined {
  const ids = new Map<string, number>();
  let next = start;
  for (const signature of signatures) {
    let eventName: string;
    try {
      eventName = signature.getMetadata().eventName;
    } catch {
      continue;
    }
    ids.set(eventName, next++);
  }
  return (eventName) => ids.get(eventName);
}

// ---------------------------------------------------------------------------
// Selectors and the delivered event

/** Tracee's wildcard for a selector's name or origin (`ALL_EVENT_TYPES`, `ALL_EVENT_ORIGINS`). */
const ALL = "*";
/** The only source this engine's events have. */
const TRACEE = "tracee";

const selectorKey = (name: string, origin: string): string => `${name}\u0000${origin}`;

/**
 * Where a v1beta1 event happened, as `legacyOrigin(eventToLegacy(event))`
 * gives it, without converting: `"container"` once the container started,
 * `"container-init"` in a container not started yet, else `"host"`.
 */
function originOf(event: TraceeEvent): string {
  const container = event.workload?.container;
  if (container?.started === true) return "container";
  if (container !== undefined && container.id !== "") return "container-init";
  return "host";
}

/** The legacy event built for each input event, shared by every signature that gets it. */
const delivered = new WeakMap<TraceeEvent, Event<LegacyEvent>>();
/** Back from a delivered payload to the input event it was built from. */
const inputOf = new WeakMap<object, TraceeEvent>();

/**
 * The event a legacy signature receives for `event` (as
 * `legacySignatureEvent`), built once per input event object however many
 * signatures receive it. Signatures share it: they must not change it.
 */
function deliveredEvent(event: TraceeEvent, origin: string): Event<LegacyEvent> {
  let e = delivered.get(event);
  if (e === undefined) {
    const payload = eventToLegacy(event);
    e = { headers: { selector: { source: TRACEE, name: payload.eventName, origin } }, payload };
    delivered.set(event, e);
    inputOf.set(payload, event);
  }
  return e;
}

// ---------------------------------------------------------------------------
// A finding as an event

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const RETURN_VALUE = "returnValue";
const DETECTED_FROM = "detectedFrom";

/** A value Tracee's conversion cannot take: Go returns an error. */
class ConversionError extends Error {}

const isPlainObject = (v: unknown): v is Readonly<Record<string, unknown>> => {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const typeName = (v: unknown): string =>
  v === null ? "null" : typeof v === "object" ? ((v as object).constructor?.name ?? "Object") : typeof v;

/**
 * A value inside a `struct` (Go: `structpb.NewValue`): numbers and bigints as
 * numbers, bytes as base64, arrays and plain objects nested; anything else
 * (a `Date`, a `Map`, a function, a cycle) is Go's "invalid type" error.
 */
function jsonValue(v: unknown, seen: Set<object>): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
    case "number":
      return v;
    case "bigint":
      return Number(v);
    case "object":
      break;
    default:
      throw new ConversionError(`invalid type: ${typeName(v)}`);
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (seen.has(v)) throw new ConversionError("invalid type: a cycle");
  if (Array.isArray(v)) {
    seen.add(v);
    const list = v.map((item) => jsonValue(item, seen));
    seen.delete(v);
    return list;
  }
  if (isPlainObject(v)) return jsonObject(v, seen);
  throw new ConversionError(`invalid type: ${typeName(v)}`);
}

function jsonObject(v: Readonly<Record<string, unknown>>, seen: Set<object> = new Set()): JsonObject {
  seen.add(v);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(v)) {
    // Absent in Go; JSON drops it too.
    if (value !== undefined) out[key] = jsonValue(value, seen);
  }
  seen.delete(v);
  return out;
}

/** Go's `strconv.ParseUint(s, 10, 32)`. */
function parseU32(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+$/.test(s) || Number(s) > 0xffffffff) {
    throw new ConversionError(`strconv.ParseUint: parsing ${JSON.stringify(s ?? "")}: invalid ${what}`);
  }
  return Number(s);
}

/**
 * Go's `getSockaddr`, for a `map[string]string`: here an object whose values
 * are all strings and whose `sa_family` is `AF_INET`, `AF_INET6` or `AF_UNIX`.
 */
function sockaddrOf(v: Readonly<Record<string, unknown>>): SockAddr | undefined {
  const family = v["sa_family"];
  if (family !== "AF_INET" && family !== "AF_INET6" && family !== "AF_UNIX") return undefined;
  if (!Object.values(v).every((x) => typeof x === "string")) return undefined;
  const s = v as Readonly<Record<string, string>>;
  const base: SockAddr = {
    saFamily: SaFamily.SA_FAMILY_T_UNSPEC,
    sunPath: "",
    sinAddr: "",
    sinPort: 0,
    sin6Addr: "",
    sin6Port: 0,
    sin6Flowinfo: 0,
    sin6Scopeid: 0,
  };
  switch (family) {
    case "AF_INET":
      return { ...base, saFamily: SaFamily.AF_INET, sinPort: parseU32(s["sin_port"], "sin_port"), sinAddr: s["sin_addr"] ?? "" };
    case "AF_UNIX":
      return { ...base, saFamily: SaFamily.AF_UNIX, sunPath: s["sun_path"] ?? "" };
    case "AF_INET6":
      return {
        ...base,
        saFamily: SaFamily.AF_INET6,
        sin6Port: parseU32(s["sin6_port"], "sin6_port"),
        sin6Flowinfo: parseU32(s["sin6_flowinfo"], "sin6_flowinfo"),
        sin6Scopeid: parseU32(s["sin6_scopeid"], "sin6_scopeid"),
        sin6Addr: s["sin6_addr"] ?? "",
      };
  }
}

/**
 * One entry of `Finding.data` as Tracee's `parseArgument` converts the Go
 * value it would be: `undefined` when Tracee has no kind for it (it logs and
 * leaves the entry out); throws a {@link ConversionError} where Go errors.
 */
function findingValue(name: string, v: unknown): EventValue | undefined {
  if (v === null || v === undefined) return { name }; // Go nil: a value of no kind
  switch (typeof v) {
    case "string":
      return { name, str: v };
    case "boolean":
      return { name, bool: v };
    case "number":
      // A whole number is Go's int (int64); any other number a float64 (timespec).
      return Number.isSafeInteger(v) ? { name, int64: BigInt(v) } : { name, timespec: { value: v } };
    case "bigint":
      if (v >= INT64_MIN && v <= INT64_MAX) return { name, int64: v };
      if (v >= 0n && v <= UINT64_MAX) return { name, uInt64: v };
      throw new ConversionError(`${v} is out of the 64-bit range`);
    case "object":
      break;
    default:
      return undefined;
  }
  if (v instanceof Uint8Array) return { name, bytes: Buffer.from(v) };
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new ConversionError("invalid Date");
    return { name, uInt64: BigInt.asUintN(64, BigInt(ms) * 1_000_000n) }; // uint64(t.UnixNano())
  }
  if (Array.isArray(v)) {
    if (v.every((s) => typeof s === "string")) return { name, strArray: { value: [...(v as string[])] } };
    if (v.every((n) => typeof n === "bigint" && n >= 0n && n <= UINT64_MAX)) {
      return { name, uInt64Array: { value: [...(v as bigint[])] } };
    }
    // []map[string]interface{}: wrapped as { items: [...] }.
    if (v.every(isPlainObject)) return { name, struct: { items: v.map((o) => jsonObject(o)) } };
    return undefined;
  }
  const toMap = (v as { toMap?: unknown }).toMap;
  if (typeof toMap === "function") {
    // detect.FindingDataStruct
    const m: unknown = toMap.call(v);
    if (m === null || m === undefined) return undefined;
    if (!isPlainObject(m)) throw new ConversionError(`toMap returned ${typeName(m)}, not an object`);
    return { name, struct: jsonObject(m) };
  }
  if (isPlainObject(v)) {
    const sockaddr = sockaddrOf(v);
    return sockaddr !== undefined ? { name, sockaddr } : { name, struct: jsonObject(v) };
  }
  return undefined;
}

/** The properties `getThreat` turns into fields rather than copying. */
const THREAT_FIELDS = new Set(["Category", "external_id", "Technique", "Severity", "signatureName"]);
const SEVERITIES = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL] as const;

/** Go's `fmt.Sprint` of a property value; `undefined` (a missing key) is Go's nil, `<nil>`. */
function sprint(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  switch (typeof v) {
    case "string":
    case "boolean":
    case "number":
    case "bigint":
      return goSprint(v);
    case "object":
      break;
    default:
      return String(v);
  }
  if (v instanceof Uint8Array) return `[${v.join(" ")}]`;
  if (Array.isArray(v)) return `[${v.map(sprint).join(" ")}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${sprint(v[k])}`).join(" ")}]`;
  }
  return String(v);
}

/**
 * The threat of a signature's finding: Tracee's `getMetadataFromSignatureMetadata`
 * (the properties, plus `signatureID`, `signatureName` and the keys `Severity`,
 * `Category`, `Technique`, `id`, `external_id` always set, nil when missing)
 * then `getThreat`. So every finding is a threat, `Severity` or not.
 */
function threatOf(meta: Finding["sigMetadata"]): Threat {
  const own = meta.properties ?? {};
  const get = (key: string): unknown => (Object.hasOwn(own, key) ? own[key] : undefined);
  const props: Record<string, unknown> = { ...own, signatureID: meta.id, signatureName: meta.name };
  for (const key of ["Severity", "Category", "Technique", "id", "external_id"]) props[key] = get(key);
  const text = (key: string): string => {
    const v = props[key];
    return typeof v === "string" ? v : "";
  };
  const level = props["Severity"];
  const severity =
    typeof level === "number" && Number.isInteger(level) && level >= 0 && level <= 4
      ? SEVERITIES[level]!
      : typeof level === "bigint" && level >= 0n && level <= 4n
        ? SEVERITIES[Number(level)]!
        : Severity.INFO;
  const properties: Record<string, string> = {};
  for (const key of Object.keys(props).sort()) {
    if (!THREAT_FIELDS.has(key)) properties[key] = sprint(props[key]);
  }
  return {
    description: meta.description,
    mitre: {
      tactic: { name: text("Category") },
      technique: { id: text("external_id"), name: text("Technique") },
    },
    severity,
    name: text("signatureName"),
    properties,
  };
}

/**
 * The triggering event in `detected_from` (Tracee's `getDetectedFrom` of the
 * `detectedFrom` argument `FindingToEvent` adds): its id, name and data, a
 * system call's `returnValue` (int64) last and no one else's, chained to the
 * event's own `detected_from`.
 */
function detectedFromOf(input: TraceeEvent): DetectedFrom {
  const data = input.data.filter((d) => d.name !== RETURN_VALUE);
  if (isSyscallEvent(input.name)) {
    const rv = integerOf(input.data.find((d) => d.name === RETURN_VALUE)) ?? 0n;
    data.push({ name: RETURN_VALUE, int64: BigInt.asIntN(64, rv) });
  }
  return { id: input.id, name: input.name, data, parent: input.detectedFrom };
}

/** The event a finding came from, and whether its legacy form has arguments. */
interface Trigger {
  readonly input: TraceeEvent;
  readonly hasArgs: boolean;
}

const looksLegacy = (p: object): p is LegacyEvent =>
  typeof (p as { eventName?: unknown }).eventName === "string" && Array.isArray((p as { args?: unknown }).args);

// ---------------------------------------------------------------------------
// The adapter

/** Options of {@link adaptSignature}. */
export interface SignatureAdapterOptions {
  /** What the signature's `ctx.getDataSource` answers. */
  readonly getDataSource: GetDataSource;
  /** The signature's `ctx.logger`, and where the adapter logs dropped findings and values. */
  readonly logger: Logger;
  /**
   * The id of the event a finding produces, by its name (`sigMetadata.eventName`);
   * `undefined` when no signature produces it (the finding is then dropped,
   * as in Tracee). Default: 6000 for this signature's event name. Use
   * {@link signatureEventIds} over every loaded signature to number them as Tracee does.
   */
  readonly eventIdFor?: (eventName: string) => number | undefined;
}

/** One `onEvent` call in progress: where its findings go. */
interface Call {
  readonly payload: object;
  readonly outputs: TraceeEvent[];
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";

class SignatureParticipant implements Participant {
  readonly kind = "signature";
  readonly id: string;
  readonly eventNames: readonly string[] | "*";
  readonly produces: readonly string[];
  readonly #signature: Signature;
  readonly #options: SignatureAdapterOptions;
  readonly #eventIdFor: (eventName: string) => number | undefined;
  /** The normalized `(name, origin)` of every `tracee` selector. */
  readonly #keys: ReadonlySet<string>;
  readonly #hasTraceeSource: boolean;
  readonly #calls: Call[] = [];
  #emit: Emit | undefined;

  constructor(signature: Signature, options: SignatureAdapterOptions) {
    const metadata = signature.getMetadata();
    const selectors = signature.getSelectedEvents();
    this.#signature = signature;
    this.#options = options;
    this.id = metadata.id;
    this.produces = [metadata.eventName];
    const ownEventName = metadata.eventName;
    this.#eventIdFor = options.eventIdFor ?? ((name) => (name === ownEventName ? START_SIGNATURE_ID : undefined));

    const keys = new Set<string>();
    const names = new Set<string>();
    let all = false;
    for (const selector of selectors) {
      if (selector.source === "") {
        options.logger.error(`Signature ${metadata.name} doesn't declare an input source`);
        continue;
      }
      if (selector.source !== TRACEE) continue; // no other source feeds this engine
      const name = selector.name === "" ? ALL : selector.name;
      const origin = selector.origin === undefined || selector.origin === "" ? ALL : selector.origin;
      keys.add(selectorKey(name, origin));
      if (name === ALL) all = true;
      else names.add(name);
    }
    this.#keys = keys;
    // Tracee signals the end to a signature with any "tracee" selector (an empty-name one included).
    this.#hasTraceeSource = selectors.some((s) => s.source === TRACEE);
    this.eventNames = all ? ALL : [...names];
  }

  async init(emit: Emit): Promise<void> {
    this.#emit = emit;
    const ctx: SignatureContext = Object.freeze({
      callback: (finding: Finding) => this.#report(finding),
      logger: this.#options.logger,
      getDataSource: this.#options.getDataSource,
    });
    await this.#signature.init(ctx);
  }

  /** Whether a selector matches `(name, origin)`: Tracee's four index lookups. */
  #matches(name: string, origin: string): boolean {
    const k = this.#keys;
    return (
      k.has(selectorKey(name, origin)) ||
      k.has(selectorKey(name, ALL)) ||
      k.has(selectorKey(ALL, origin)) ||
      k.has(selectorKey(ALL, ALL))
    );
  }

  handle(event: TraceeEvent): readonly TraceeEvent[] | undefined | Promise<readonly TraceeEvent[] | undefined> {
    const origin = originOf(event);
    if (!this.#matches(event.name, origin)) return undefined;
    const e = deliveredEvent(event, origin);
    const call: Call = { payload: e.payload, outputs: [] };
    this.#calls.push(call);
    let result: unknown;
    try {
      result = this.#signature.onEvent(e);
    } catch (err) {
      this.#fail(call);
      throw err;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        () => this.#finish(call),
        (err: unknown) => {
          this.#fail(call);
          throw err;
        },
      );
    }
    return this.#finish(call);
  }

  #finish(call: Call): readonly TraceeEvent[] {
    this.#remove(call);
    return call.outputs;
  }

  /** `onEvent` threw: what it reported before still goes out, as in Tracee (the callback had sent it). */
  #fail(call: Call): void {
    this.#remove(call);
    if (call.outputs.length > 0) this.#emit?.(call.outputs);
  }

  #remove(call: Call): void {
    const i = this.#calls.indexOf(call);
    if (i >= 0) this.#calls.splice(i, 1);
  }

  /**
   * `ctx.callback`: converts the finding at once (later changes to its data
   * do not show), then hands it to the `onEvent` call in progress for the
   * finding's event (else the latest call in progress), or, with none in
   * progress, to `emit`.
   */
  #report(finding: Finding): void {
    const event = this.#convert(finding);
    if (event === undefined) return;
    const calls = this.#calls;
    if (calls.length > 0) {
      const payload: unknown = (finding as { event?: { payload?: unknown } }).event?.payload;
      const call = calls.find((c) => c.payload === payload) ?? calls[calls.length - 1]!;
      call.outputs.push(event);
      return;
    }
    this.#emit?.([event]);
  }

  /** The event a finding came from, or `undefined` (logged) when it has none Tracee could use. */
  #trigger(payload: unknown, signatureId: string): Trigger | undefined {
    if (typeof payload !== "object" || payload === null) return undefined;
    const known = inputOf.get(payload);
    if (known !== undefined) return { input: known, hasArgs: (payload as LegacyEvent).args.length > 0 };
    if (looksLegacy(payload)) {
      try {
        return { input: legacyToEvent(payload), hasArgs: payload.args.length > 0 };
      } catch (err) {
        this.#options.logger.error(`error converting finding to event: ${signatureId}`, "error", String(err));
        return undefined;
      }
    }
    this.#options.logger.error(`error converting finding to event: ${signatureId}`);
    return undefined;
  }

  /** Tracee's `FindingToEvent` and `ConvertToProto`, from the finding to the v1beta1 event. */
  #convert(finding: Finding): TraceeEvent | undefined {
    const logger = this.#options.logger;
    const meta = finding.sigMetadata;
    const payload: unknown = (finding as { event?: { payload?: unknown } }).event?.payload;
    // Tracee skips a finding without an event ("might happen during initialization").
    if (payload === undefined || payload === null) {
      logger.debug("Finding without an event dropped", "signature", this.id);
      return undefined;
    }
    const trigger = this.#trigger(payload, meta.id);
    if (trigger === undefined) return undefined;
    const id = this.#eventIdFor(meta.eventName);
    if (id === undefined) {
      logger.error(`error finding event not found: ${meta.eventName}`);
      return undefined;
    }
    const data: EventValue[] = [];
    for (const [name, value] of Object.entries(finding.data ?? {})) {
      // Tracee reads an argument of this name as detected_from, never as data.
      if (name === DETECTED_FROM) continue;
      let v: EventValue | undefined;
      try {
        v = findingValue(name, value);
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        logger.error("Failed to convert event data", "event", meta.eventName, "name", name, "error", err.message);
        continue;
      }
      if (v === undefined) {
        logger.error(
          "Can't convert event argument. Please add it as a GRPC event data type or implement detect.FindingDataStruct interface.",
          "name",
          name,
          "type",
          typeName(value),
        );
        continue;
      }
      data.push(v);
    }
    const { input, hasArgs } = trigger;
    const matched = input.policies?.matched ?? [];
    return {
      timestamp: input.timestamp,
      id,
      name: meta.eventName,
      policies: matched.length > 0 ? { matched: [...matched] } : undefined,
      workload: input.workload,
      data,
      threat: threatOf(meta),
      // FindingToEvent adds the detectedFrom argument only when the triggering event has arguments.
      detectedFrom: hasArgs ? detectedFromOf(input) : undefined,
    };
  }

  /** Tracee's engine at the end of its input: `onSignal(SignalSourceComplete("tracee"))` to a signature with a `tracee` selector. */
  async end(): Promise<void> {
    if (this.#hasTraceeSource) await this.#signature.onSignal(SOURCE_COMPLETE_TRACEE);
  }

  async close(): Promise<void> {
    await this.#signature.close();
  }
}

/**
 * Runs a legacy signature in the engine, as Tracee's signature engine does:
 *
 * - **Selectors.** The signature receives an event when one of its `tracee`
 *   selectors matches its name and origin by Tracee's four lookups
 *   (`{name, origin}`, `{name, *}`, `{*, origin}`, `{*, *}`); an empty name
 *   or origin is `*`; a selector with an empty source is logged and ignored
 *   (Tracee: "doesn't declare an input source"), one with another source
 *   never matches. The origin is `legacyOrigin`'s: `container` (started),
 *   `container-init`, `host`. An event two selectors match is delivered once
 *   (Tracee's engine delivers it once per matching index entry).
 * - **The event.** `legacySignatureEvent`'s: `{ headers: { selector }, payload: LegacyEvent }`,
 *   built once per input event object and shared between signatures.
 * - **Findings** reported through `ctx.callback` while `onEvent` runs (until
 *   its promise settles) are returned from `handle`; findings reported later
 *   (from a timer, from `onSignal`) go to `emit`. If `onEvent` throws, the
 *   findings it reported first go to `emit` and the error propagates.
 * - **A finding's event** (Tracee's `FindingToEvent` then `ConvertToProto`):
 *   name `sigMetadata.eventName`, id from `eventIdFor`; timestamp, workload
 *   and policies from the event the finding names (`finding.event`, normally
 *   the event being handled); `Finding.data` as data (see below); a threat
 *   from the metadata, always; `detected_from` the triggering event (id, name,
 *   data, a system call's int64 `returnValue`), chained to its own
 *   `detected_from`, present when the triggering legacy event has arguments.
 *   A finding without an event is dropped (debug log); one whose event is not
 *   a legacy event, or whose event name has no id, is dropped with an error log.
 * - **Data kinds** (Tracee's `parseArgument` of the Go value): string → `str`,
 *   boolean → `bool`, a safe integer → `int64` (Go `int`), another number →
 *   `timespec` (Go `float64`), bigint → `int64` (`u_int64` above 2^63−1),
 *   `null`/`undefined` → no kind, `Uint8Array` → `bytes`, `Date` →
 *   `u_int64` nanoseconds, string[] → `str_array`, bigint[] → `u_int64_array`,
 *   an array of plain objects → `struct` `{ items }`, an object with `toMap()`
 *   → `struct` of its result, a plain object of strings with a known
 *   `sa_family` → `sockaddr`, any other plain object → `struct`. Anything
 *   else (number[], a class instance, a Map) is left out with an error log,
 *   as Tracee leaves out what it cannot convert. Entries come in
 *   `Object.entries` order (Go's map order is random); a `detectedFrom` key
 *   is never data (Tracee reads that argument name as `detected_from`). Where
 *   Go's conversion errors (a sockaddr port that is not a number, a `Date` or
 *   `Map` inside a struct), Tracee drops all the data of the event; here only
 *   that entry, with an error log.
 * - **End.** `end()` calls `onSignal({ type: "source-complete", source: "tracee" })`
 *   ({@link SOURCE_COMPLETE_TRACEE}) when the signature has a `tracee`
 *   selector; `close()` calls `signature.close()`.
 *
 * `getMetadata` and `getSelectedEvents` are called once, here; a throw from
 * either propagates.
 *
 * @internal
 */
export function adaptSignature<Payload>(signature: Signature<Payload>, options: SignatureAdapterOptions): Participant {
  return new SignatureParticipant(signature as Signature, options);
}
