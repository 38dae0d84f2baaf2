/**
 * {@link defineWritableStore}: a typed writable datastore from a key and a
 * data description — a protobuf {@link MessageType}, or a schema built by `t`
 * (any Standard Schema v1), whose values travel as `google.protobuf.Value`.
 *
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { run } from "../codec/schema/decode.js";
import { show } from "../codec/schema/internal.js";
import { copyJson, DEFAULT_JSON_DEPTH } from "../codec/schema/json.js";
import type { DeepReadonly } from "../codec/schema/data-source.js";
import { isOwnSchema, isStandardSchema, parserOf } from "../codec/schema/standard.js";
import { FAIL, type Infer, type Issue, type Parser, type SchemaLike } from "../codec/schema/types.js";
import type { MessageType } from "./any.js";
import { invalidArgument, isDataStoreError } from "./errors.js";
import { checkSource, type StoreEntry, type WritableStore } from "./store.js";
import {
  bytesId,
  checkEntries,
  deepFreeze,
  entryParts,
  entryPrefix,
  moreRecent,
  messageOf,
  Partitions,
  stableId,
  type Slot,
  type Staged,
} from "./stores/partitions.js";
import { valueType } from "./types.js";

/**
 * How a store's keys or data are described: a protobuf message type (packed
 * as that message in `Any`), or a schema — one built by `t`, or any
 * synchronous Standard Schema v1 — whose values are JSON and travel as
 * `google.protobuf.Value`.
 */
export type StoreSpec<T = unknown> = MessageType<T> | SchemaLike<T>;

/** The key type a {@link StoreSpec} describes: the message's type, or the schema's output. */
export type StoreKeyOf<S> = S extends MessageType<infer T> ? T : S extends StandardSchemaV1 ? Infer<S> : never;

/** The data type a store with this {@link StoreSpec} hands out: the message's type, or the schema's output made read-only (it is frozen). */
export type StoreDataOf<S> = S extends MessageType<infer T> ? T : S extends StandardSchemaV1 ? DeepReadonly<Infer<S>> : never;

/** One source's data for a key, as a `resolve` function sees it. */
export interface StoreCandidate<D> {
  /** The source that wrote it. */
  readonly source: string;
  /** The stored, frozen data. */
  readonly data: D;
  /** The store's write counter when it was written: a higher `seq` is a later write. Unique within a store. */
  readonly seq: number;
}

/** What {@link defineWritableStore} takes. */
export interface WritableStoreDefinition<KS extends StoreSpec, DS extends StoreSpec> {
  /** The name it is registered and served under: letters, digits, `_`, `.`, `-`. */
  readonly name: string;
  /** The keys: a message type, or a schema (keys then travel as `google.protobuf.Value`). */
  readonly key: KS;
  /** The data: a message type, or a schema (data then travels as `google.protobuf.Value`). */
  readonly data: DS;
  /**
   * The identity of a key: two keys with the same identity are one key. Its
   * errors refuse the key (`INVALID_ARGUMENT` on writes and deletes, not
   * found on reads), so it can check and normalise keys as well.
   *
   * Default: for a schema, the key's JSON text with object keys sorted (so
   * `"1"` and `1` are two keys, `0` and `-0` one); for a message type, the
   * key's encoded bytes (so a field left out and a field at its default are
   * one key, but a message with a map may encode one key two ways — give a
   * `keyId` then).
   */
  readonly keyId?: (key: StoreKeyOf<KS>) => string;
  /**
   * Picks the data `get` returns when one or more sources hold the key. The
   * candidates are sorted by source name (UTF-16 code units); returning
   * `undefined` reads as not found. Default: the most recent write (the
   * highest `seq`; a write counter, not a clock).
   */
  readonly resolve?: (candidates: readonly StoreCandidate<StoreDataOf<DS>>[]) => StoreDataOf<DS> | undefined;
  /**
   * Checks an entry after the key and data passed their specs: return
   * nothing to accept it, or a string saying what is wrong to refuse it with
   * `INVALID_ARGUMENT`. An error it throws propagates unchanged.
   */
  readonly validate?: (entry: StoreEntry<StoreKeyOf<KS>, StoreDataOf<DS>>) => string | undefined | void;
}

/** A store made by {@link defineWritableStore}. */
export interface TypedWritableStore<K, D> extends WritableStore<K, D> {
  /** The data `resolve` picks among the sources holding `key`; `undefined` when none does or `key` is not a valid key. */
  get(key: K): D | undefined;
  /** `source`'s own data for `key`, whatever `resolve` picks. */
  getFromSource(source: string, key: K): D | undefined;
  /** Synchronous: see {@link WritableStore.write}. */
  write(source: string, entry: StoreEntry<K, D>): void;
  /** Synchronous: see {@link WritableStore.writeBatch}. */
  writeBatch(source: string, entries: readonly StoreEntry<K, D>[]): number;
  /** Synchronous: see {@link WritableStore.delete}. */
  delete(source: string, key: K): boolean;
  /** Synchronous: see {@link WritableStore.clear}. */
  clear(source: string): number;
  /** The sources holding at least one entry, sorted by UTF-16 code units; a new array. */
  listSources(): string[];
}

// ---------------------------------------------------------------------------

/** How a spec checks and stores a value: returns the value to keep, or throws INVALID_ARGUMENT starting with `where`. */
type Check = (value: unknown, where: string) => unknown;

function isMessageType(spec: unknown): spec is MessageType<unknown> {
  if (typeof spec !== "object" || spec === null) return false;
  const type = spec as Partial<MessageType<unknown>>;
  return typeof type.typeName === "string" && typeof type.encode === "function" && typeof type.decode === "function";
}

const jsonParser: Parser<unknown> = (value, ctx) => copyJson(value, DEFAULT_JSON_DEPTH, ctx);

/** The parser a schema spec runs on writes: its own, or for a foreign schema a JSON copy first (the values are JSON, and foreign schemas may not copy). */
function schemaParser(schema: SchemaLike): Parser<unknown> {
  const parse = parserOf(schema);
  if (isOwnSchema(schema)) return parse;
  return (value, ctx) => {
    const copy = jsonParser(value, ctx);
    return copy === FAIL ? FAIL : parse(copy, ctx);
  };
}

function schemaCheck(parse: Parser<unknown>, what: string): Check {
  return (value, where) => {
    const result = run(parse, value, 1);
    if (!result.ok) throw invalidArgument(`${where}${what}: ${(result.issues[0] as Issue).message}`);
    return result.value;
  };
}

function messageCheck(type: MessageType<unknown>): Check {
  return (value, where) => {
    try {
      return type.decode(type.encode(value));
    } catch (err) {
      throw invalidArgument(`${where}data: cannot be encoded as a ${type.typeName}: ${messageOf(err)}`, { cause: err });
    }
  };
}

interface KeyRules {
  /** Checks a key a write or delete names: its identity and the key to hand to `validate`; throws INVALID_ARGUMENT. */
  check(key: unknown, where: string): { id: string; key: unknown };
  /** The identity of a key a read names, or `undefined` for a key that cannot be one. */
  find(key: unknown): string | undefined;
}

function keyRules(spec: StoreSpec, keyId: ((key: unknown) => string) | undefined): KeyRules {
  const identify = (key: unknown, where: string, encode?: MessageType<unknown>): string => {
    let id: unknown;
    try {
      id = keyId !== undefined ? keyId(key) : encode !== undefined ? bytesId(encode.encode(key)) : stableId(key);
    } catch (err) {
      const what = keyId === undefined && encode !== undefined ? `cannot be encoded as a ${encode.typeName}: ` : "";
      throw invalidArgument(`${where}key: ${what}${messageOf(err)}`, { cause: err });
    }
    if (typeof id !== "string") throw invalidArgument(`${where}key: keyId must return a string, got ${show(id)}`);
    return id;
  };
  if (isMessageType(spec)) {
    return {
      check: (key, where) => ({ id: identify(key, where, spec), key }),
      find: (key) => {
        try {
          return identify(key, "", spec);
        } catch (err) {
          if (isDataStoreError(err)) return undefined;
          throw err;
        }
      },
    };
  }
  const parse = schemaParser(spec);
  const checkKey = schemaCheck(parse, "key");
  return {
    check: (key, where) => {
      const parsed = checkKey(key, where);
      return { id: identify(parsed, where), key: parsed };
    },
    find: (key) => {
      const parsed = parse(key, null);
      if (parsed === FAIL) return undefined;
      try {
        return identify(parsed, "");
      } catch (err) {
        if (isDataStoreError(err)) return undefined;
        throw err;
      }
    },
  };
}

function specKind(spec: unknown, what: string): "message" | "schema" {
  if (isMessageType(spec)) return "message";
  if (isStandardSchema(spec)) return "schema";
  throw new TypeError(`${what} must be a MessageType or a schema (built by t, or a Standard Schema v1), got ${show(spec)}`);
}

class DefinedStore implements TypedWritableStore<unknown, unknown> {
  readonly name: string;
  readonly keyType: MessageType<unknown>;
  readonly dataType: MessageType<unknown>;
  readonly #entries = new Partitions<unknown>();
  readonly #keys: KeyRules;
  readonly #checkData: Check;
  readonly #validate: ((entry: StoreEntry<unknown, unknown>) => unknown) | undefined;
  readonly #resolve: ((candidates: readonly StoreCandidate<unknown>[]) => unknown) | undefined;

  constructor(definition: WritableStoreDefinition<StoreSpec, StoreSpec>) {
    const { name, key, data, keyId, resolve, validate } = definition;
    if (typeof name !== "string" || name === "") throw new TypeError(`name must be a non-empty string, got ${show(name)}`);
    for (const [option, fn] of [["keyId", keyId], ["resolve", resolve], ["validate", validate]] as const) {
      if (fn !== undefined && typeof fn !== "function") throw new TypeError(`${option} must be a function, got ${show(fn)}`);
    }
    const keyKind = specKind(key, "key");
    const dataKind = specKind(data, "data");
    this.name = name;
    this.keyType = keyKind === "message" ? (key as MessageType<unknown>) : (valueType as MessageType<unknown>);
    this.dataType = dataKind === "message" ? (data as MessageType<unknown>) : (valueType as MessageType<unknown>);
    this.#keys = keyRules(key, keyId as ((key: unknown) => string) | undefined);
    this.#checkData = dataKind === "message" ? messageCheck(data as MessageType<unknown>) : schemaCheck(schemaParser(data as SchemaLike), "data");
    this.#validate = validate as ((entry: StoreEntry<unknown, unknown>) => unknown) | undefined;
    this.#resolve = resolve as ((candidates: readonly StoreCandidate<unknown>[]) => unknown) | undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: unknown): unknown {
    const id = this.#keys.find(key);
    if (id === undefined) return undefined;
    const resolve = this.#resolve;
    if (resolve === undefined) return this.#entries.best(id, moreRecent)?.data;
    const holders = this.#entries.holders(id);
    if (holders === undefined) return undefined;
    const candidates = [...holders].sort(bySource);
    return resolve(candidates);
  }

  getFromSource(source: string, key: unknown): unknown {
    const id = this.#keys.find(key);
    return id === undefined ? undefined : this.#entries.slot(source, id)?.data;
  }

  write(source: string, entry: StoreEntry<unknown, unknown>): void {
    checkSource(source);
    this.#entries.putAll(source, [this.#stage(entry, undefined)]);
  }

  writeBatch(source: string, entries: readonly StoreEntry<unknown, unknown>[]): number {
    checkSource(source);
    checkEntries(entries);
    // An index loop, not map: a hole in the array is an entry too (refused), never skipped.
    const staged: Staged<unknown>[] = [];
    for (let index = 0; index < entries.length; index++) staged.push(this.#stage(entries[index], index));
    return this.#entries.putAll(source, staged);
  }

  delete(source: string, key: unknown): boolean {
    checkSource(source);
    return this.#entries.remove(source, this.#keys.check(key, "").id);
  }

  clear(source: string): number {
    checkSource(source);
    return this.#entries.clear(source);
  }

  listSources(): string[] {
    return this.#entries.sources();
  }

  #stage(entry: unknown, index: number | undefined): Staged<unknown> {
    const where = entryPrefix(index);
    const parts = entryParts(entry, where);
    const { id, key } = this.#keys.check(parts.key, where);
    const data = deepFreeze(this.#checkData(parts.data, where));
    if (this.#validate !== undefined) {
      const problem = this.#validate({ key, data });
      if (typeof problem === "string") throw invalidArgument(`${where}${problem}`);
    }
    return { id, data };
  }
}

function bySource(a: Slot<unknown>, b: Slot<unknown>): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}

/**
 * Defines a writable datastore whose keys and data are described by a
 * protobuf {@link MessageType} or by a schema (`t.string()`, `t.record({…})`,
 * any synchronous Standard Schema v1; values then travel as
 * `google.protobuf.Value`, and `keyType`/`dataType` are `valueType`).
 *
 * - **Every write is checked**: a schema key or data must match its schema
 *   (the message is the schema's issue: `data: severity: expected an integer,
 *   got 5.5`); message-type data must encode as its message. Then `validate`
 *   runs. Failures throw `INVALID_ARGUMENT` and change nothing; in a batch
 *   the message starts with the entry's index (`entry 3: key: …`).
 * - **Sources are isolated**: each source has its own entries; `delete` and
 *   `clear` touch the caller's source only and report what they removed.
 *   When several sources hold a key, `get` returns what `resolve` picks —
 *   by default the most recent write (a write counter, not a clock, so two
 *   writes in one millisecond are still ordered).
 * - **Batches are atomic**: every entry is checked before any is stored; a
 *   key given twice keeps the later entry; the count is distinct keys.
 * - **Stored data is a frozen copy**: schema data as the schema outputs it
 *   (JSON copied first for a foreign schema), message data decoded from its
 *   own encoding. Changing the object written changes nothing stored.
 *
 * Reads never throw for a bad key: `get` gives `undefined`. Throws a
 * TypeError for bad options.
 *
 * @example
 * ```ts
 * const hosts = defineWritableStore({
 *   name: "host_inventory",
 *   key: t.string({ pattern: /^[a-z0-9.-]+$/ }),
 *   data: t.record({ owner: t.string(), critical: t.bool() }),
 * });
 * hosts.write("cmdb", { key: "db1", data: { owner: "dba", critical: true } });
 * hosts.get("db1"); // { owner: "dba", critical: true } (frozen)
 * ```
 */
export function defineWritableStore<KS extends StoreSpec, DS extends StoreSpec>(
  definition: WritableStoreDefinition<KS, DS>,
): TypedWritableStore<StoreKeyOf<KS>, StoreDataOf<DS>> {
  return new DefinedStore(definition as unknown as WritableStoreDefinition<StoreSpec, StoreSpec>) as unknown as TypedWritableStore<
    StoreKeyOf<KS>,
    StoreDataOf<DS>
  >;
}
