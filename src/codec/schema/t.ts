/**
 * The schema builder `t`.
 */
import { list, map, nullable, optional, record } from "./composite.js";
import { json } from "./json.js";
import { bool, enumOf, int, literal, number, string, uint } from "./scalars.js";

/**
 * Builds typed schemas for data written into data sources.
 *
 * | builder | TypeScript type | Tracee type |
 * |---|---|---|
 * | `t.int({ min, max })` | `number` (safe integer) | `int` |
 * | `t.uint()` | `number` (safe integer ≥ 0) | `uint` |
 * | `t.number()` | `number` (finite) | `float64` |
 * | `t.string()` | `string` | `string` |
 * | `t.bool()` | `boolean` | `bool` |
 * | `t.literal("x")` | `"x"` | `string:"x"` |
 * | `t.enum(["a", "b"])` | `"a" \| "b"` | `string:"a"\|string:"b"` |
 * | `t.list(s)` | `T[]` | `[]T` |
 * | `t.record({ f: s })` | `{ f: T }` | `{"f":"T"}` |
 * | `t.map(s)` | `{ [key: string]: T }` | `map[string]T` |
 * | `t.optional(s)` | `T \| undefined`; in a record `f?: T` | `*T` |
 * | `t.nullable(s)` | `T \| null` | `*T` |
 * | `t.json()` | `JsonValue` | `any` |
 *
 * @example
 * ```ts
 * import { t, decode, type Infer } from "tracee-ds";
 *
 * const Ioc = t.record({
 *   sha256: t.string({ pattern: /^[0-9a-f]{64}$/ }),
 *   severity: t.enum(["low", "medium", "high"]),
 *   tags: t.list(t.string()),
 *   first_seen: t.optional(t.string()),
 * });
 * type Ioc = Infer<typeof Ioc>;
 * const ioc: Ioc = decode(Ioc, value);
 * ```
 */
export const t = Object.freeze({
  int,
  uint,
  number,
  string,
  bool,
  literal,
  enum: enumOf,
  list,
  record,
  map,
  optional,
  nullable,
  json,
});
