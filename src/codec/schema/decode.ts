/**
 * decode and safeDecode: checking a value against any schema.
 */
import { CodecError } from "../errors.js";
import { MAX_ISSUES, collectIssues } from "./internal.js";
import { parserOf } from "./standard.js";
import { FAIL, type Issue, type Parser, type SchemaLike } from "./types.js";

/** What {@link safeDecode} returns. */
export type DecodeResult<T> =
  | { readonly success: true; readonly value: T }
  | {
      readonly success: false;
      /** The first issue as a {@link CodecError}, the error {@link decode} would throw. */
      readonly error: CodecError;
      /** Every issue found, in input order; at most 100. */
      readonly issues: readonly Issue[];
    };

function toError(issue: Issue): CodecError {
  return new CodecError(issue.reason, issue.path);
}

/** @internal Runs a parser; returns the value or the issues (up to `max`). */
export function run<T>(parse: Parser<T>, value: unknown, max: number): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const fast = parse(value, null);
  if (fast !== FAIL) return { ok: true, value: fast };
  const slow = collectIssues(parse, value, max);
  if (slow.value !== FAIL && slow.issues.length === 0) return { ok: true, value: slow.value };
  return { ok: false, issues: slow.issues };
}

/**
 * Checks `value` against `schema` and returns the decoded value, typed by the schema.
 *
 * `schema` is one built by {@link t} or any synchronous Standard Schema v1.
 * The value is never mutated; for schemas built by `t`, objects and lists in
 * the result are new (only the declared parts are copied, `__proto__` keys
 * stay keys). Throws a {@link CodecError} (`errorIs(err, ErrFailedToUnmarshal)`
 * holds) for the first problem, its message naming the path:
 * `threshold: expected an integer, got 5.5`. Throws a TypeError when a
 * foreign schema validates asynchronously.
 *
 * @example
 * ```ts
 * const threshold = decode(t.int({ min: 1 }), value); // number
 * ```
 */
export function decode<T>(schema: SchemaLike<T>, value: unknown): T {
  const parse = parserOf(schema);
  const fast = parse(value, null);
  if (fast !== FAIL) return fast;
  const slow = collectIssues(parse, value, 1);
  if (slow.value !== FAIL && slow.issues.length === 0) return slow.value;
  throw toError(slow.issues[0] as Issue);
}

/**
 * Checks `value` against `schema` and returns a result instead of throwing.
 *
 * On success `{ success: true, value }`; on failure `{ success: false, error,
 * issues }`, where `issues` lists every problem found (up to 100, in input
 * order) and `error` is the {@link CodecError} for the first, the one
 * {@link decode} throws. Still throws a TypeError when a foreign schema
 * validates asynchronously: that is a programming error, not bad data.
 *
 * @example
 * ```ts
 * const result = safeDecode(Ioc, value);
 * if (!result.success) for (const issue of result.issues) log.warn(issue.message);
 * ```
 */
export function safeDecode<T>(schema: SchemaLike<T>, value: unknown): DecodeResult<T> {
  const result = run(parserOf(schema), value, MAX_ISSUES);
  if (result.ok) return { success: true, value: result.value };
  return { success: false, error: toError(result.issues[0] as Issue), issues: result.issues };
}

/**
 * Whether `value` matches `schema`, as a type guard. Same rules as {@link decode},
 * but the value is not copied; use `decode` for data you keep.
 *
 * @example
 * ```ts
 * if (is(t.int(), key)) use(key);
 * ```
 */
export function is<T>(schema: SchemaLike<T>, value: unknown): value is T {
  return run(parserOf(schema), value, 1).ok;
}
