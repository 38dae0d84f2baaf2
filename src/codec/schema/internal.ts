/**
 * @internal Building blocks shared by the schema builders: making a schema
 * object around a compiled parser, recording issues, describing values.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { formatMessagePath, type PathSegment } from "../errors.js";
import {
  FAIL,
  PARSE,
  type Fail,
  type Issue,
  type ParseContext,
  type Parser,
  type Schema,
  type SchemaKind,
  type TraceeType,
} from "./types.js";

/** Most issues a Standard Schema `validate` or `safeDecode` collects. */
export const MAX_ISSUES = 100;

export function newContext(max: number): ParseContext {
  return { path: [], issues: [], max };
}

export function makeIssue(path: readonly PathSegment[], reason: string): Issue {
  const where = formatMessagePath(path);
  return Object.freeze({
    path: Object.freeze([...path]),
    reason,
    message: where === "" ? reason : `${where}: ${reason}`,
  });
}

/** Records an issue at the context's current path and returns FAIL. */
export function fail(ctx: ParseContext, reason: string): Fail {
  if (ctx.issues.length < ctx.max) ctx.issues.push(makeIssue(ctx.path, reason));
  return FAIL;
}

/** Whether the context has collected as many issues as it wants. */
export function full(ctx: ParseContext): boolean {
  return ctx.issues.length >= ctx.max;
}

/** Runs a parser on the slow path and returns its issues (at least one if it failed). */
export function collectIssues<T>(parse: Parser<T>, value: unknown, max: number): { value: T | Fail; issues: Issue[] } {
  const ctx = newContext(max);
  const out = parse(value, ctx);
  if (out === FAIL && ctx.issues.length === 0) ctx.issues.push(makeIssue([], "invalid value"));
  return { value: out, issues: ctx.issues };
}

const MAX_SHOWN = 40;

/** How an error message shows a value: `5.5`, `"seven"`, `a list`, `an object`. */
export function show(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "string": {
      const json = JSON.stringify(value);
      return json.length <= MAX_SHOWN ? json : `${json.slice(0, MAX_SHOWN - 2)}…" (${value.length} characters)`;
    }
    case "boolean":
      return String(value);
    case "undefined":
      return "undefined";
    case "bigint":
      return `the bigint ${value}n`;
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      if (value === null) return "null";
      if (Array.isArray(value)) return "a list";
      return isPlainObject(value) ? "an object" : `an instance of ${constructorName(value as object)}`;
  }
}

function constructorName(value: object): string {
  try {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === "string" && name !== "" ? name : "an unknown class";
  } catch {
    return "an unknown class";
  }
}

/** Whether `value` is an object whose prototype is `Object.prototype` or `null` (what JSON makes). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Sets `key` on a fresh object as an own data property. Plain assignment is
 * fine for every key except `__proto__`, which would set the prototype.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** How a literal shows in a Tracee type name: `string:"threshold"`, `int:5`, `bool:true`, `null`. */
export function literalTraceeType(value: string | number | boolean | null): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return `string:${JSON.stringify(value)}`;
    case "boolean":
      return `bool:${String(value)}`;
    default:
      return Number.isInteger(value) ? `int:${Object.is(value, -0) ? "0" : String(value)}` : `float64:${String(value)}`;
  }
}

function toStandardPath(path: readonly PathSegment[]): PropertyKey[] {
  return [...path];
}

/** Makes the schema object: the parser under PARSE, plus `~standard`. */
export function makeSchema<T, Extra extends object = object>(
  kind: SchemaKind,
  traceeType: TraceeType,
  parse: Parser<T>,
  extra?: Extra,
): Schema<T> & Extra {
  const validate = (value: unknown): StandardSchemaV1.Result<T> => {
    const out = parse(value, null);
    if (out !== FAIL) return { value: out };
    const { value: slow, issues } = collectIssues(parse, value, MAX_ISSUES);
    if (slow !== FAIL && issues.length === 0) return { value: slow };
    return { issues: issues.map((i) => ({ message: i.reason, path: toStandardPath(i.path) })) };
  };
  const schema = {
    kind,
    traceeType: freezeType(traceeType),
    ...extra,
    [PARSE]: parse,
    "~standard": Object.freeze({ version: 1 as const, vendor: "tracee-ds", validate }),
  };
  return Object.freeze(schema) as unknown as Schema<T> & Extra;
}

function freezeType(type: TraceeType): TraceeType {
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return Object.freeze(type.map(freezeType));
  const out: Record<string, TraceeType> = {};
  for (const [k, v] of Object.entries(type)) setOwn(out, k, freezeType(v));
  return Object.freeze(out);
}
