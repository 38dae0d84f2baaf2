/**
 * Whether an entry can be sent: packed with the store's message types as the
 * client will pack it (a JSON value with `1e400`, a lone surrogate or nesting
 * deeper than 64 cannot be), and small enough for a batch of its own. An
 * import runs this on every row before sending, so a row the client would
 * fail on mid-import is a bad row with its line instead.
 *
 * @internal
 * @module
 */
import { type AnyMessage, type MessageType, packAny } from "../../datastores/any.js";
import { ipAddressKeyType, ipReputationType, valueType } from "../../datastores/types.js";
import { BatchHeader, encodeDataEntry, fieldSize } from "../../grpc/datastore-wire.js";
import { RowError, type StoreKind } from "./rows.js";

/** The message types of a store of `kind`: what its keys and data are packed as. @internal */
export function storeTypes(kind: StoreKind): { readonly key: MessageType<unknown>; readonly data: MessageType<unknown> } {
  const types = kind === "ip" ? { key: ipAddressKeyType, data: ipReputationType } : { key: valueType, data: valueType };
  return types as { key: MessageType<unknown>; data: MessageType<unknown> };
}

/** Where the import's batches go, to check that each entry fits one. @internal */
export interface BatchTarget {
  readonly store: string;
  readonly source: string;
  /** `--batch-bytes`: the largest batch message. */
  readonly maxBatchBytes: number;
}

/** `value` packed as `type`; a {@link RowError} that names `what` when it does not pack. @internal */
export function packChecked(type: MessageType<unknown>, value: unknown, what: string): AnyMessage {
  try {
    return packAny(type, value);
  } catch (err) {
    throw new RowError(`${what} cannot be sent: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A check of entries of `kind`: throws a {@link RowError} naming the field
 * for an entry whose key or data does not pack, and, with `batch`, for one
 * too large for a batch of its own (the sum the client makes: the entry's
 * field in a `WriteBatchDataRequest` after the store and source names).
 *
 * @param names - what the messages call the key and the data (default: the row's fields, `ip`/`key` and `data`/`value`).
 * @internal
 */
export function entryCheck(
  kind: StoreKind,
  batch?: BatchTarget,
  names: { readonly key: string; readonly data: string } = kind === "ip" ? { key: "ip", data: "data" } : { key: "key", data: "value" },
): (entry: { readonly key: unknown; readonly data: unknown }) => void {
  const types = storeTypes(kind);
  const header = batch === undefined ? undefined : new BatchHeader(batch.store, batch.source).size;
  return (entry) => {
    const key = packChecked(types.key, entry.key, names.key);
    const data = packChecked(types.data, entry.data, names.data);
    if (batch === undefined || header === undefined) return;
    const size = fieldSize(encodeDataEntry(key, data).length);
    if (size > batch.maxBatchBytes - header) {
      throw new RowError(
        `the entry is ${size} bytes encoded, too large for a batch of its own ` +
          `(--batch-bytes ${batch.maxBatchBytes}, of which the store and source names take ${header})`,
      );
    }
  };
}
