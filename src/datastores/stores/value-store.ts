/**
 * {@link valueStore}: the generic store of Tracee's e2e `writable_store`,
 * with JSON keys and data, and sources kept apart.
 *
 * @module
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { JsonPrimitive, JsonValue } from "type-fest";
import { show } from "../../codec/schema/internal.js";
import { t } from "../../codec/schema/t.js";
import { defineWritableStore, type TypedWritableStore } from "../define.js";

/** Options for {@link valueStore}. */
export interface ValueStoreOptions {
  /** The name it is registered and served under. Default `"writable_store"`. */
  readonly name?: string;
}

/**
 * A store of JSON values under scalar JSON keys, both `google.protobuf.Value`
 * on the wire. See {@link valueStore}.
 */
export interface ValueStore extends TypedWritableStore<JsonValue, JsonValue> {
  /** The same as `get`: the name Tracee's e2e store reader uses. */
  getValue(key: JsonValue): JsonValue | undefined;
}

/** A scalar JSON value: a string, a finite number, a boolean or null. */
const scalarKey: StandardSchemaV1<unknown, JsonPrimitive> = Object.freeze({
  "~standard": Object.freeze({
    version: 1 as const,
    vendor: "tracee-ds",
    validate: (value: unknown): StandardSchemaV1.Result<JsonPrimitive> => {
      if (value === null || typeof value === "string" || typeof value === "boolean") return { value };
      if (typeof value === "number" && Number.isFinite(value)) return { value: value === 0 ? 0 : value };
      return { issues: [{ message: `expected a string, a finite number, a boolean or null, got ${show(value)}` }] };
    },
  }),
});

/**
 * Makes the generic writable store of Tracee's e2e tests (`writable_store`):
 * keys and data are `google.protobuf.Value` (`keyType` and `dataType` are
 * `valueType`).
 *
 * - **Keys** are scalar JSON values — strings, finite numbers, booleans and
 *   null — compared by type and value: `"1"` and `1` are two keys, `0` and
 *   `-0` one. Lists and objects as keys are refused (`INVALID_ARGUMENT`).
 * - **Data** is any JSON value, kept as JSON (Tracee turns every non-string
 *   into `""`), stored as a deep-frozen copy.
 * - **Sources are isolated** (Tracee lets any source delete any key): each
 *   source has its own entries, and `delete`/`clear` touch the caller's
 *   only. When several sources hold a key, `get` returns the most recently
 *   written one — by the store's write counter, not a clock.
 * - **Batches are atomic** (Tracee writes them partially), and the counts
 *   are real: `writeBatch` returns distinct keys stored, `clear` how many it
 *   removed.
 *
 * Built on {@link defineWritableStore}.
 *
 * @example
 * ```ts
 * const store = valueStore();
 * store.write("e2e", { key: "threshold", data: { value: 5 } });
 * store.getValue("threshold"); // { value: 5 }
 * ```
 */
export function valueStore(options: ValueStoreOptions = {}): ValueStore {
  const store = defineWritableStore({
    name: options.name ?? "writable_store",
    key: scalarKey,
    data: t.json(),
  }) as unknown as TypedWritableStore<JsonValue, JsonValue>;
  return Object.assign(store, { getValue: (key: JsonValue) => store.get(key) });
}
