/**
 * @internal Taking any Standard Schema v1 where this SDK takes a schema.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { isThenable } from "../../internal/promise.js";
import type { PathSegment } from "../errors.js";
import { makeIssue } from "./internal.js";
import { FAIL, PARSE, type Parser, type Schema, type SchemaLike, type TraceeType } from "./types.js";

/** Whether `schema` was built by this copy of `t` (and so has a compiled parser). */
export function isOwnSchema(schema: unknown): schema is Schema<unknown> {
  return typeof schema === "object" && schema !== null && typeof (schema as Partial<Schema<unknown>>)[PARSE] === "function";
}

/** Whether `value` looks like a Standard Schema v1. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props = (value as { "~standard"?: unknown })["~standard"];
  return (
    typeof props === "object" &&
    props !== null &&
    (props as { version?: unknown }).version === 1 &&
    typeof (props as { validate?: unknown }).validate === "function"
  );
}

const adapters = new WeakMap<object, Parser<unknown>>();

/**
 * The compiled parser of a schema: its own for schemas built by `t`, an
 * adapter around `~standard.validate` for any other Standard Schema.
 *
 * Throws a TypeError for something that is not a schema.
 */
export function parserOf<T>(schema: SchemaLike<T>): Parser<T> {
  if (isOwnSchema(schema)) return schema[PARSE] as Parser<T>;
  let parse = adapters.get(schema);
  if (parse === undefined) {
    if (!isStandardSchema(schema)) {
      throw new TypeError("expected a schema built by t or a Standard Schema v1 (an object with ~standard.validate)");
    }
    parse = foreignParser(schema);
    adapters.set(schema, parse);
  }
  return parse as Parser<T>;
}

/** The Tracee type of a schema; `"any"` for a foreign schema, which cannot say. */
export function traceeTypeOf(schema: SchemaLike): TraceeType {
  return isOwnSchema(schema) ? schema.traceeType : "any";
}

function segmentOf(segment: PropertyKey | StandardSchemaV1.PathSegment): PathSegment {
  const key = typeof segment === "object" && segment !== null ? segment.key : segment;
  return typeof key === "number" || typeof key === "string" ? key : String(key);
}

function foreignParser(schema: StandardSchemaV1): Parser<unknown> {
  const props = schema["~standard"];
  return (value, ctx) => {
    const result = props.validate(value);
    if (isThenable(result)) {
      // The result is discarded; keep a rejection from going unhandled.
      Promise.resolve(result).catch(() => {});
      throw new TypeError(
        `the ${props.vendor} schema validates asynchronously; decode, get and write need a synchronous schema`,
      );
    }
    if (!result.issues) return result.value;
    if (ctx === null) return FAIL;
    if (result.issues.length === 0) ctx.issues.push(makeIssue(ctx.path, "invalid value"));
    for (const issue of result.issues) {
      if (ctx.issues.length >= ctx.max) break;
      const path = [...ctx.path, ...(issue.path ?? []).map(segmentOf)];
      ctx.issues.push(makeIssue(path, issue.message));
    }
    return FAIL;
  };
}
