/**
 * `checkWritableStore`: runs a writable datastore through the store contract
 * the `DataStoreService` server and detectors rely on, and lists every way
 * it breaks it.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { errorIs } from "../detect/errors.js";
import { ErrInvalidArgument } from "../datastores/errors.js";
import { MAX_SOURCE_LENGTH, type StoreEntry, type WritableStore } from "../datastores/store.js";
import { isThenable } from "../internal/promise.js";

/** What part of the store contract a {@link StoreViolation} breaks. */
export type StoreViolationKind =
  /** `name` is not a non-empty string, or `keyType`/`dataType` is not a message type. */
  | "identity"
  /** `get` returned a Promise (it must be synchronous), or threw. */
  | "get"
  /** `get(missingKey)` did not return `undefined`. */
  | "get-missing"
  /** A good `write` threw, or `get` did not give its data back. */
  | "write"
  /** A second write of a key by the same source did not replace the first. */
  | "replace"
  /** `size` did not count each source's entries. */
  | "size"
  /** A bad entry was not refused with `INVALID_ARGUMENT`, or its refusal changed something. */
  | "write-bad"
  /** A bad source name was not refused with `INVALID_ARGUMENT`, or its refusal changed something. */
  | "source"
  /** A good `writeBatch` threw, counted wrong, or `get` did not give its data back. */
  | "batch"
  /** A `writeBatch` with a bad entry was not refused with `INVALID_ARGUMENT`, or stored part of the batch. */
  | "batch-atomic"
  /** `delete` returned the wrong answer, left the entry, or threw the second time. */
  | "delete"
  /** A source's `delete` or `clear` changed another source's entries. */
  | "isolation"
  /** `clear` returned the wrong count or left entries. */
  | "clear"
  /** `listSources` was not the sorted list of the sources holding entries. */
  | "list-sources";

/** One way a store breaks the contract, found by {@link checkWritableStore}. */
export interface StoreViolation {
  readonly kind: StoreViolationKind;
  /** What went wrong, in a sentence naming the call. */
  readonly message: string;
  /** What the store threw, when that is the problem. */
  readonly error?: unknown;
}

/** What {@link checkWritableStore} writes. */
export interface WritableStoreSamples<K, D> {
  /**
   * At least two good entries with distinct keys, in the form the store
   * keeps them. The store must hold nothing under these keys before the check.
   */
  readonly entries: readonly StoreEntry<K, D>[];
  /** An entry the store must refuse with `INVALID_ARGUMENT` (a bad key or bad data). */
  readonly badEntry: { readonly key: unknown; readonly data: unknown };
  /** A key nothing is written under: `get` must return `undefined`. */
  readonly missingKey?: K;
  /**
   * Two source names the store holds nothing from (default
   * `["contract-b", "contract-a"]`; the first writes first). A third,
   * `<first>-batch`, is used for the atomic batch check.
   */
  readonly sources?: readonly [string, string];
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function attempt<T>(fn: () => T | PromiseLike<T>): Promise<Attempt<Awaited<T>>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}${"code" in error ? ` ${String(error.code)}` : ""}: ${error.message}`;
  return show(error);
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks `store` against the writable store contract and resolves to every
 * violation found (an empty list when it passes); it never throws for a
 * violation. Async methods are awaited; `get` must be synchronous.
 *
 * In order: identity (`name`, `keyType`, `dataType`); `get(missingKey)` is
 * `undefined`; `write` then `get` gives the data back (compared as
 * `dataType` encodes it, so a store may add fields or normalise) and `size`
 * grows by one; a second write by the same source replaces the first; a bad
 * entry, and bad source names (`""`, a non-string, longer than
 * `MAX_SOURCE_LENGTH`), are refused with `INVALID_ARGUMENT` and change
 * nothing; `writeBatch` stores every entry and returns their count; a
 * `writeBatch` whose last entry is bad is refused and stores nothing;
 * `delete` answers `true` then `false` (idempotent) and never removes
 * another source's entry; `clear` returns the source's count, leaves other
 * sources alone and then returns 0; `listSources` is sorted throughout. A
 * store that passes is left as it was found.
 *
 * A violation that leaves the store's content unknown (a refused call that
 * changed it, a removed entry of another source, a `get` that is not
 * synchronous) ends the check: what follows would only repeat it. `size`,
 * `list-sources` and `get` are reported once each.
 *
 * @example
 * ```ts
 * const violations = await checkWritableStore(fakeDataStore({ name: "kv" }), {
 *   entries: [{ key: "a", data: { n: 1 } }, { key: "b", data: { n: 2 } }],
 *   badEntry: { key: "c", data: () => 1 }, // not a JSON value
 *   missingKey: "nope",
 * });
 * expect(violations).toEqual([]);
 * ```
 */
export async function checkWritableStore<K, D>(store: WritableStore<K, D>, samples: WritableStoreSamples<K, D>): Promise<StoreViolation[]> {
  const entries = samples.entries;
  if (!Array.isArray(entries) || entries.length < 2) throw new TypeError("checkWritableStore needs at least two sample entries");
  const out: StoreViolation[] = [];
  try {
    await runChecks(store, samples, out);
  } catch (err) {
    if (err !== STOP) throw err;
  }
  return out;
}

/** Thrown inside the check once the store is no longer what the check expects: what follows would only repeat the fault. */
const STOP: unique symbol = Symbol("stop");

/** Kinds reported once: they would otherwise repeat after every later call. */
const ONCE: ReadonlySet<StoreViolationKind> = new Set(["get", "size", "list-sources"]);

async function runChecks<K, D>(store: WritableStore<K, D>, samples: WritableStoreSamples<K, D>, out: StoreViolation[]): Promise<void> {
  const entries = samples.entries;
  const [first, second] = samples.sources ?? ["contract-b", "contract-a"];
  const batchSource = `${first}-batch`;
  const add = (kind: StoreViolationKind, message: string, error?: unknown) => {
    if (ONCE.has(kind) && out.some((v) => v.kind === kind)) return;
    out.push(error === undefined ? { kind, message } : { kind, message, error });
  };
  /** Reports a violation after which the store's content is unknown, and ends the check. */
  const fatal: (kind: StoreViolationKind, message: string, error?: unknown) => never = (kind, message, error) => {
    add(kind, message, error);
    throw STOP;
  };

  // Identity.
  if (typeof store.name !== "string" || store.name === "") add("identity", `name must be a non-empty string, got ${show(store.name)}`);
  for (const field of ["keyType", "dataType"] as const) {
    const type = store[field] as Partial<WritableStore[typeof field]> | undefined;
    if (typeof type?.typeName !== "string" || typeof type.encode !== "function" || typeof type.decode !== "function") {
      add("identity", `${field} must be a message type (typeName, encode, decode)`);
    }
  }
  if (out.length > 0) return;

  const encode = (data: unknown): string | undefined => {
    try {
      return Buffer.from(store.dataType.encode(data as D)).toString("hex");
    } catch {
      return undefined;
    }
  };
  const same = (got: unknown, want: D) => {
    if (got === undefined) return want === undefined;
    const a = encode(got);
    return a !== undefined ? a === encode(want) : isDeepStrictEqual(got, want);
  };
  /** `get(key)`; a Promise or a throw ends the check (every later read would be wrong too). */
  const read = (key: K): D | undefined => {
    let got: unknown;
    try {
      got = store.get(key);
    } catch (error) {
      return fatal("get", `get(${show(key)}) threw: ${describe(error)}`, error);
    }
    if (isThenable(got)) fatal("get", `get(${show(key)}) returned a Promise; get must be synchronous`);
    return got as D | undefined;
  };
  // Reads of a key nothing holds: anything but undefined, and absent keys cannot be told apart.
  if (samples.missingKey !== undefined) {
    const got = read(samples.missingKey);
    if (got !== undefined) fatal("get-missing", `get(${show(samples.missingKey)}) must return undefined, got ${show(got)}`);
  }
  for (const entry of entries) {
    if (read(entry.key) !== undefined) throw new TypeError(`checkWritableStore needs a store holding nothing under the sample keys; it holds ${show(entry.key)}`);
  }
  const initialSize = store.size;
  const initialSources = await attempt(() => store.listSources());

  /** What the store should hold: per source, the indexes of the sample keys it holds. */
  const model = new Map<string, Set<number>>();
  const hold = (source: string, i: number) => {
    const keys = model.get(source) ?? new Set<number>();
    keys.add(i);
    model.set(source, keys);
  };
  const drop = (source: string, i?: number) => {
    if (i === undefined) model.delete(source);
    else {
      model.get(source)?.delete(i);
      if (model.get(source)?.size === 0) model.delete(source);
    }
  };
  const expectedSize = () => initialSize + [...model.values()].reduce((n, keys) => n + keys.size, 0);
  const sourcesNow = (): string[] => {
    const base = initialSources.ok ? [...initialSources.value] : [];
    return [...new Set([...base, ...model.keys()])].sort();
  };
  const checkSize = (after: string) => {
    if (store.size !== expectedSize()) add("size", `after ${after}, size is ${show(store.size)}, expected ${expectedSize()}`);
  };
  const checkSources = async (after: string) => {
    const got = await attempt(() => store.listSources());
    if (!got.ok) add("list-sources", `listSources() after ${after} threw: ${describe(got.error)}`, got.error);
    else if (!isDeepStrictEqual([...got.value], sourcesNow())) {
      add("list-sources", `after ${after}, listSources() gave ${show(got.value)}, expected ${show(sourcesNow())}`);
    }
  };
  /** Every sample key's data, size and sources: compared around calls that must change nothing. */
  const state = async () => ({
    data: entries.map((e) => {
      const got = read(e.key);
      return got === undefined ? "undefined" : (encode(got) ?? show(got));
    }),
    size: store.size,
    sources: await attempt(() => store.listSources()).then((r) => (r.ok ? show(r.value) : "a throw")),
  });
  const refused = async (kind: StoreViolationKind, what: string, call: () => unknown) => {
    const before = await state();
    const got = await attempt(call);
    const changed = !isDeepStrictEqual(before, await state());
    const also = changed ? " and changed the store" : "";
    if (got.ok) add(kind, `${what} must be refused with INVALID_ARGUMENT, but succeeded${also}`);
    else if (!errorIs(got.error, ErrInvalidArgument)) add(kind, `${what} must be refused with INVALID_ARGUMENT, but threw ${describe(got.error)}${also}`, got.error);
    else if (changed) add(kind, `${what} was refused but changed the store`);
    if (changed) throw STOP;
  };

  // write, get, replace.
  const e0 = entries[0] as StoreEntry<K, D>;
  const e1 = entries[1] as StoreEntry<K, D>;
  const at = (source: string, key: unknown) => `${show(source)}, ${show(key)}`;
  const wrote = await attempt(() => store.write(first, e0));
  if (!wrote.ok) fatal("write", `write(${at(first, e0.key)}) threw: ${describe(wrote.error)}`, wrote.error);
  hold(first, 0);
  const got0 = read(e0.key);
  if (!same(got0, e0.data)) fatal("write", `after write(${at(first, e0.key)}), get gave ${show(got0)}, expected ${show(e0.data)}`);
  checkSize(`write(${at(first, e0.key)})`);
  await checkSources(`write(${at(first, e0.key)})`);
  if (!same(e1.data, e0.data)) {
    const replaced = await attempt(() => store.write(first, { key: e0.key, data: e1.data }));
    if (!replaced.ok) fatal("replace", `a second write(${at(first, e0.key)}) threw: ${describe(replaced.error)}`, replaced.error);
    const got = read(e0.key);
    if (!same(got, e1.data)) add("replace", `a second write(${at(first, e0.key)}) did not replace the first: get gave ${show(got)}`);
    checkSize(`a second write(${at(first, e0.key)})`);
    const back = await attempt(() => store.write(first, e0));
    if (!back.ok || !same(read(e0.key), e0.data)) fatal("replace", `writing ${show(e0.key)} back for ${show(first)} failed`, back.ok ? undefined : back.error);
  }

  // Refusals.
  const bad = samples.badEntry as StoreEntry<K, D>;
  await refused("write-bad", `write(${show(first)}, bad entry ${show(bad.key)})`, () => store.write(first, bad));
  const badSources: [string, unknown][] = [
    ['""', ""],
    ["42", 42],
    [`a source of ${MAX_SOURCE_LENGTH + 1} characters`, "s".repeat(MAX_SOURCE_LENGTH + 1)],
  ];
  for (const [name, source] of badSources) {
    await refused("source", `write(${name}, ${show(e1.key)})`, () => store.write(source as string, e1));
  }
  await refused("source", `writeBatch("", …)`, () => store.writeBatch("", [e1]));
  await refused("source", `delete("", ${show(e0.key)})`, () => store.delete("", e0.key));
  await refused("source", `clear("")`, () => store.clear(""));

  // writeBatch: all entries, from the second source (sorting before the first).
  const batch = await attempt(() => store.writeBatch(second, entries));
  if (!batch.ok) fatal("batch", `writeBatch(${show(second)}, ${entries.length} entries) threw: ${describe(batch.error)}`, batch.error);
  entries.forEach((_, i) => hold(second, i));
  if (batch.value !== entries.length) add("batch", `writeBatch(${show(second)}, ${entries.length} entries) returned ${show(batch.value)}, expected ${entries.length}`);
  for (const entry of entries) {
    // Key 0 is held by both sources with the same data: whichever the conflict policy picks, it reads the same.
    const got = read(entry.key);
    if (!same(got, entry.data)) fatal("batch", `after writeBatch(${show(second)}), get(${show(entry.key)}) gave ${show(got)}, expected ${show(entry.data)}`);
  }
  checkSize(`writeBatch(${show(second)})`);
  await checkSources(`writeBatch(${show(second)})`);

  // Atomic batches: good entries then a bad one, from a source holding nothing; a bad one first, from one holding them all.
  await refused("batch-atomic", `writeBatch(${show(batchSource)}, ${entries.length} good entries then a bad one)`, () =>
    store.writeBatch(batchSource, [...entries, bad]),
  );
  await refused("batch-atomic", `writeBatch(${show(second)}, a bad entry then the others)`, () =>
    store.writeBatch(second, [bad, ...entries.map((e) => ({ key: e.key, data: e0.data }))]),
  );

  // delete: source-isolated, then idempotent.
  const notMine = await attempt(() => store.delete(first, e1.key));
  if (!notMine.ok) add("delete", `delete(${at(first, e1.key)}) of a key that source never wrote threw: ${describe(notMine.error)}`, notMine.error);
  else if (notMine.value !== false) add("isolation", `delete(${at(first, e1.key)}) returned ${show(notMine.value)} for a key only ${show(second)} wrote`);
  if (read(e1.key) === undefined) fatal("isolation", `delete(${at(first, e1.key)}) removed ${show(second)}'s entry`);
  checkSize(`delete(${at(first, e1.key)})`);
  for (const call of [1, 2]) {
    const del = await attempt(() => store.delete(second, e1.key));
    const expected = call === 1;
    if (!del.ok) add("delete", `delete(${at(second, e1.key)}) (call ${call}) threw: ${describe(del.error)}`, del.error);
    else if (del.value !== expected) add("delete", `delete(${at(second, e1.key)}) (call ${call}) returned ${show(del.value)}, expected ${expected}`);
    drop(second, 1);
  }
  const gone = read(e1.key);
  if (gone !== undefined) fatal("delete", `after delete(${at(second, e1.key)}), get still gave ${show(gone)}`);
  checkSize(`delete(${at(second, e1.key)})`);
  const shared = await attempt(() => store.delete(second, e0.key));
  if (!shared.ok) fatal("delete", `delete(${at(second, e0.key)}) threw: ${describe(shared.error)}`, shared.error);
  if (shared.value !== true) add("delete", `delete(${at(second, e0.key)}) returned ${show(shared.value)}, expected true`);
  drop(second, 0);
  const kept = read(e0.key);
  if (!same(kept, e0.data)) fatal("isolation", `delete(${at(second, e0.key)}) also removed or changed ${show(first)}'s entry: get gave ${show(kept)}`);
  checkSize(`delete(${at(second, e0.key)})`);
  await checkSources("the deletes");

  // clear: counts, isolated, then 0.
  for (const source of [first, second]) {
    const expected = model.get(source)?.size ?? 0;
    const othersHold = new Set([...model.entries()].filter(([s]) => s !== source).flatMap(([, keys]) => [...keys]));
    const cleared = await attempt(() => store.clear(source));
    if (!cleared.ok) fatal("clear", `clear(${show(source)}) threw: ${describe(cleared.error)}`, cleared.error);
    if (cleared.value !== expected) add("clear", `clear(${show(source)}) returned ${show(cleared.value)}, expected ${expected}`);
    drop(source);
    for (const [i, entry] of entries.entries()) {
      const got = read(entry.key);
      if (othersHold.has(i) && got === undefined) fatal("isolation", `clear(${show(source)}) removed another source's entry ${show(entry.key)}`);
      if (!othersHold.has(i) && got !== undefined) fatal("clear", `after clear(${show(source)}), get(${show(entry.key)}) still gave ${show(got)}`);
    }
    checkSize(`clear(${show(source)})`);
    const again = await attempt(() => store.clear(source));
    if (!again.ok) add("clear", `a second clear(${show(source)}) threw: ${describe(again.error)}`, again.error);
    else if (again.value !== 0) add("clear", `a second clear(${show(source)}) returned ${show(again.value)}, expected 0`);
    await checkSources(`clear(${show(source)})`);
  }
}

/** Thrown by {@link assertWritableStore}; `violations` lists what {@link checkWritableStore} found. */
export class WritableStoreContractError extends Error {
  readonly violations: readonly StoreViolation[];
  constructor(violations: readonly StoreViolation[]) {
    super(`datastore breaks the contract:\n${violations.map((v) => `  - [${v.kind}] ${v.message}`).join("\n")}`);
    this.name = "WritableStoreContractError";
    this.violations = violations;
  }
}

/**
 * Like {@link checkWritableStore}, but rejects with a
 * {@link WritableStoreContractError} listing every violation; for test
 * frameworks without deep equality.
 */
export async function assertWritableStore<K, D>(store: WritableStore<K, D>, samples: WritableStoreSamples<K, D>): Promise<void> {
  const violations = await checkWritableStore(store, samples);
  if (violations.length > 0) throw new WritableStoreContractError(violations);
}
