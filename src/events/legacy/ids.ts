/**
 * Event ids: Tracee's internal numbers (what the legacy JSON carries) and the
 * v1beta1 `EventId` numbers.
 *
 * @internal
 * @module
 */
import { EventId } from "../model.js";

const ENUM = EventId as unknown as Readonly<Record<string, unknown>>;

/**
 * The v1beta1 `EventId` of a built-in event by its name (`"openat"` → 258),
 * or `undefined` for any other name (signatures, detectors, unknown names).
 *
 * @internal
 */
export function builtinEventId(name: string): number | undefined {
  // The enum object also maps numbers back to names ("258" → "openat"): skip those keys.
  if (!Object.hasOwn(ENUM, name) || /^-?\d/.test(name)) return undefined;
  const id = ENUM[name];
  return typeof id === "number" && id > 0 ? id : undefined;
}

/** Whether `name` is a system call's event (v1beta1 ids below 1000). @internal */
export function isSyscallEvent(name: string): boolean {
  const id = builtinEventId(name);
  return id !== undefined && id < 1000;
}

/**
 * The v1beta1 id of a legacy event, as Tracee's `TranslateEventID` gives it:
 * a built-in event's internal id (0–2999, and 9000) becomes its `EventId`;
 * any other id (signatures 6000+, detectors 7500+) stays as it is.
 *
 * Tracee translates the number through its own table, which matches the
 * internal numbers of one Tracee version on one architecture; the legacy
 * JSON comes from many, so the name is looked up instead. A built-in id whose
 * name is not in the `EventId` enum stays as it is.
 *
 * @internal
 */
export function v1beta1EventId(legacyId: number, name: string): number {
  if ((legacyId >= 0 && legacyId <= 2999) || legacyId === 9000) return builtinEventId(name) ?? legacyId;
  return legacyId;
}
