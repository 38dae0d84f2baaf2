/**
 * The `detectedFrom` argument of a legacy signature finding and the v1beta1
 * `detected_from` field.
 *
 * @internal
 * @module
 */
import type { DetectedFrom, EventValue } from "../model.js";
import {
  argToEventValue,
  eventValueToArg,
  exactInteger,
  integer,
  INT64,
  jsonInteger,
  RETURN_VALUE,
  UINT32,
  UNKNOWN_TYPE,
} from "./args.js";
import { at, fail } from "./errors.js";
import { isSyscallEvent } from "./ids.js";
import type { LegacyArgument, LegacyJsonValue } from "./types.js";

type Obj = { [key: string]: LegacyJsonValue };

const isObj = (v: LegacyJsonValue | undefined): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The name of the argument that carries the event a finding came from. @internal */
export const DETECTED_FROM = "detectedFrom";

/** An integer EventValue's value (`int64`, `int32`, `u_int32`, `u_int64`), or `undefined`. @internal */
export function integerOf(v: EventValue | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (v.int64 !== undefined) return v.int64;
  if (v.int32 !== undefined) return BigInt(v.int32);
  if (v.uInt32 !== undefined) return BigInt(v.uInt32);
  if (v.uInt64 !== undefined) return v.uInt64;
  return undefined;
}

/**
 * The value of a legacy `detectedFrom` argument (`{ id, name, args,
 * returnValue, parent }`) as a v1beta1 {@link DetectedFrom}, as Tracee's
 * `getDetectedFrom` builds it: the id stays Tracee's internal one, the args
 * become data, and a system call also gets its `returnValue` (int64) last.
 *
 * @internal
 */
export function detectedFromOf(v: LegacyJsonValue, path: string): DetectedFrom {
  if (!isObj(v)) return fail(path, "the event the finding came from: an object with id, name and args", v);
  const idValue = v["id"] ?? 0;
  const id = typeof idValue === "string" && /^\d+$/.test(idValue) ? BigInt(idValue) : exactInteger(idValue);
  if (id === undefined || id < 0n || id > UINT32.max) return fail(at(path, "id"), "an event id", idValue);
  const nameValue = v["name"] ?? "";
  if (typeof nameValue !== "string") return fail(at(path, "name"), "a string", nameValue);
  const argsValue = v["args"] ?? [];
  if (!Array.isArray(argsValue)) return fail(at(path, "args"), "an array of arguments", argsValue);
  const data = argsValue.map((a, i) => {
    const p = `${at(path, "args")}[${i}]`;
    if (!isObj(a)) return fail(p, "an argument ({ name, type, value })", a);
    const name = a["name"] ?? "";
    const type = a["type"] ?? "";
    if (typeof name !== "string") return fail(at(p, "name"), "a string", name);
    if (typeof type !== "string") return fail(at(p, "type"), "a string", type);
    return argToEventValue({ name, type, value: a["value"] ?? null }, p);
  });
  if (isSyscallEvent(nameValue) && !data.some((d) => d.name === RETURN_VALUE)) {
    const rv = v[RETURN_VALUE];
    data.push({ name: RETURN_VALUE, int64: rv === undefined || rv === null ? 0n : integer(rv, INT64, at(path, RETURN_VALUE)) });
  }
  const parent = v["parent"];
  return {
    id: Number(id),
    name: nameValue,
    data,
    parent: parent === undefined || parent === null ? undefined : detectedFromOf(parent, at(path, "parent")),
  };
}

function legacyValue(d: DetectedFrom): Obj {
  const args = d.data
    .filter((v) => v.name !== RETURN_VALUE)
    .map(eventValueToArg)
    .map((a: LegacyArgument): Obj => ({ name: a.name, type: a.type, value: a.value }));
  const rv = integerOf(d.data.find((v) => v.name === RETURN_VALUE)) ?? 0n;
  return {
    id: d.id,
    name: d.name,
    args,
    returnValue: jsonInteger(rv),
    ...(d.parent === undefined ? {} : { parent: legacyValue(d.parent) }),
  };
}

/**
 * A v1beta1 {@link DetectedFrom} as the legacy `detectedFrom` argument
 * (type `"unknown"`, as Tracee's findings give it): `{ id, name, args,
 * returnValue }`, and `parent` for a chain.
 *
 * @internal
 */
export function detectedFromToArg(d: DetectedFrom): LegacyArgument {
  return { name: DETECTED_FROM, type: UNKNOWN_TYPE, value: legacyValue(d) };
}
