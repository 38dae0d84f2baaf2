/**
 * `t.json`: any JSON value, copied.
 */
import type { JsonValue } from "type-fest";
import { DEFAULT_MAX_DEPTH } from "../wire/options.js";
import { fail, isPlainObject, makeSchema, setOwn, show } from "./internal.js";
import { FAIL, type Fail, type ParseContext, type Schema } from "./types.js";

/** Options for {@link json}. */
export interface JsonOptions {
  /** How deeply lists and objects may nest (the value itself is depth 1). Default 64. */
  readonly maxDepth?: number;
}

/** The default nesting limit of {@link json}, the same as the wire decoder's. */
export const DEFAULT_JSON_DEPTH = DEFAULT_MAX_DEPTH;

function copy(value: unknown, depth: number, maxDepth: number, ctx: ParseContext | null): JsonValue | Fail {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      return ctx === null ? FAIL : fail(ctx, `expected a JSON value, got ${show(value)}`);
    case "object": {
      if (value === null) return null;
      if (depth > maxDepth) return ctx === null ? FAIL : fail(ctx, `nested deeper than ${maxDepth} levels`);
      if (Array.isArray(value)) {
        const out: JsonValue[] = [];
        let bad = false;
        for (let i = 0; i < value.length; i++) {
          if (ctx !== null) ctx.path.push(i);
          const item = copy(value[i], depth + 1, maxDepth, ctx);
          if (ctx !== null) ctx.path.pop();
          if (item === FAIL) {
            if (ctx === null || ctx.issues.length >= ctx.max) return FAIL;
            bad = true;
          } else out.push(item);
        }
        return bad ? FAIL : out;
      }
      if (!isPlainObject(value)) return ctx === null ? FAIL : fail(ctx, `expected a JSON value, got ${show(value)}`);
      const out: Record<string, JsonValue> = {};
      let bad = false;
      for (const key of Object.keys(value)) {
        if (ctx !== null) ctx.path.push(key);
        const item = copy(value[key], depth + 1, maxDepth, ctx);
        if (ctx !== null) ctx.path.pop();
        if (item === FAIL) {
          if (ctx === null || ctx.issues.length >= ctx.max) return FAIL;
          bad = true;
        } else setOwn(out, key, item);
      }
      return bad ? FAIL : out;
    }
    default:
      return ctx === null ? FAIL : fail(ctx, `expected a JSON value, got ${show(value)}`);
  }
}

/** @internal Copies a JSON value, checking it; used by `t.json` and records that keep unknown fields. */
export function copyJson(value: unknown, maxDepth: number, ctx: ParseContext | null): JsonValue | Fail {
  return copy(value, 1, maxDepth, ctx);
}

/**
 * Any JSON value: null, a boolean, a finite number, a string, a list or a
 * plain object of JSON values. Tracee type `"any"`.
 *
 * The result is a deep copy: objects are new plain objects whose keys are
 * all own data properties (a `__proto__` key stays a key and never sets a
 * prototype). Refused: `undefined`, NaN and ±Infinity, functions, symbols,
 * bigints, class instances (a Date, a Map), and nesting deeper than
 * `maxDepth` (default 64; this also stops cycles).
 *
 * @example
 * ```ts
 * const Labels = t.record({ name: t.string(), extra: t.json() });
 * ```
 */
export function json(options?: JsonOptions): Schema<JsonValue> {
  const maxDepth = options?.maxDepth ?? DEFAULT_JSON_DEPTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) throw new RangeError(`maxDepth must be a positive integer, got ${show(maxDepth)}`);
  return makeSchema<JsonValue>("json", "any", (value, ctx) => copy(value, 1, maxDepth, ctx));
}
