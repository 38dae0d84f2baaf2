/**
 * @internal Straight-line fast paths for records and lists.
 *
 * A loop over a record's fields reads and writes properties by a key held in
 * a variable; V8 cannot specialise those sites and each access costs tens of
 * nanoseconds. Generating one function per schema, with the field names
 * written into the code, turns them into plain named accesses and an object
 * literal: an order of magnitude faster. Field names enter the code only as
 * `JSON.stringify` string literals, never as identifiers.
 *
 * The generated functions are the fast path only (no path, no issues): they
 * return FAIL at the first doubt, and the interpreter in composite.ts decides
 * and explains. Where code generation is disallowed (a CSP, or Node's
 * `--disallow-code-generation-from-strings`), `compile*` returns undefined and
 * the interpreter does both.
 */
import { FAIL, type Parser } from "./types.js";


const OP = Object.prototype;
const getProto = Object.getPrototypeOf as (o: object) => unknown;
const hasOwn = Object.hasOwn as (o: object, key: string) => boolean;

/** Whether something has added an enumerable property to Object.prototype (prototype pollution). */
function polluted(): boolean {
  for (const _ in OP) return true;
  return false;
}

function setProto(target: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(target, "__proto__", { value, writable: true, enumerable: true, configurable: true });
}

let codegen: boolean | undefined;

function make(params: string[], body: string, args: unknown[]): unknown {
  if (codegen === false) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function(...params, `"use strict";\n${body}`) as (...a: unknown[]) => unknown;
    codegen = true;
    return factory(...args);
  } catch (err) {
    if (err instanceof EvalError) {
      codegen = false;
      return undefined;
    }
    throw err;
  }
}

/** Names Object.prototype has (`constructor`, `toString` …): a plain read could find them there. */
function inherited(key: string): boolean {
  return key in OP;
}

export interface RecordPlan {
  readonly keys: readonly string[];
  readonly parsers: readonly Parser<unknown>[];
  readonly optional: readonly boolean[];
  /** "reject": any extra own key fails; "strip": ignored; "keep": `keepRest` copies them. */
  readonly unknown: "reject" | "strip" | "keep";
  /** For "keep": copies the undeclared fields of `value` onto `out`; false on a bad one. */
  readonly keepRest: (value: Record<string, unknown>, out: Record<string, unknown>) => boolean;
  /** The interpreter, called whenever a context is given (the slow path). */
  readonly slow: Parser<Record<string, unknown>>;
}

/**
 * Compiles a record's parser: the generated fast path, handing over to
 * `plan.slow` when a context is given. Undefined where code generation is disallowed.
 */
export function compileRecord(plan: RecordPlan): Parser<Record<string, unknown>> | undefined {
  const { keys, optional } = plan;
  const lines: string[] = [
    "return function record(v, ctx) {",
    "  if (ctx !== null) return slow(v, ctx);",
    "  if (typeof v !== 'object' || v === null) return FAIL;",
    "  const proto = getProto(v);",
    "  if (proto !== OP) { if (proto !== null) return FAIL; } else if (polluted()) return FAIL;",
    "  let seen = 0;",
  ];
  keys.forEach((key, i) => {
    const k = JSON.stringify(key);
    const read = inherited(key) ? `hasOwn(v, ${k}) ? v[${k}] : undefined` : `v[${k}]`;
    lines.push(`  const x${i} = ${read};`, `  let r${i};`);
    if (optional[i]) {
      lines.push(`  if (x${i} !== undefined) { seen++; r${i} = p${i}(x${i}, null); if (r${i} === FAIL) return FAIL; }`);
    } else {
      lines.push(`  if (x${i} === undefined) return FAIL;`, `  seen++; r${i} = p${i}(x${i}, null); if (r${i} === FAIL) return FAIL;`);
    }
  });
  if (plan.unknown === "reject") {
    lines.push("  let count = 0;", "  for (const _ in v) count++;", "  if (count !== seen) return FAIL;");
  }
  // An object literal for the leading required fields, then stores in order.
  let lead = 0;
  while (lead < keys.length && !optional[lead] && keys[lead] !== "__proto__") lead++;
  const literal = keys
    .slice(0, lead)
    .map((key, i) => `${JSON.stringify(key)}: r${i}`)
    .join(", ");
  lines.push(`  const out = { ${literal} };`);
  for (let i = lead; i < keys.length; i++) {
    const key = keys[i] as string;
    const store = key === "__proto__" ? `setProto(out, r${i});` : `out[${JSON.stringify(key)}] = r${i};`;
    lines.push(optional[i] ? `  if (r${i} !== undefined) ${store}` : `  ${store}`);
  }
  if (plan.unknown === "keep") lines.push("  if (!keepRest(v, out)) return FAIL;");
  lines.push("  return out;", "};");
  const params = ["FAIL", "OP", "getProto", "hasOwn", "polluted", "setProto", "keepRest", "slow"];
  const args: unknown[] = [FAIL, OP, getProto, hasOwn, polluted, setProto, plan.keepRest, plan.slow];
  keys.forEach((_, i) => params.push(`p${i}`));
  args.push(...plan.parsers);
  return make(params, lines.join("\n"), args) as Parser<Record<string, unknown>> | undefined;
}

const LIST_SOURCE = `return function list(v, ctx) {
  if (ctx !== null) return slow(v, ctx);
  if (!Array.isArray(v)) return FAIL;
  const n = v.length;
  if (n < minLength || n > maxLength) return FAIL;
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = item(v[i], null);
    if (r === FAIL) return FAIL;
    out.push(r);
  }
  return out;
};`;

/**
 * Compiles a list's fast path. The code is the same for every list; compiling
 * it per schema gives each its own type feedback, so the item call stays
 * monomorphic and can be inlined.
 */
export function compileList<T>(
  item: Parser<T>,
  minLength: number,
  maxLength: number,
  slow: Parser<T[]>,
): Parser<T[]> | undefined {
  return make(["FAIL", "item", "minLength", "maxLength", "slow"], LIST_SOURCE, [FAIL, item, minLength, maxLength, slow]) as
    | Parser<T[]>
    | undefined;
}
