/**
 * Tracee's writable datastores: the contracts, the errors, `Any` packing and
 * the message types. Exported from the `tracee-ds` entry point; nothing here
 * loads gRPC.
 *
 * @module
 */
export {
  DataStoreError,
  isDataStoreError,
  invalidArgument,
  ErrInvalidArgument,
  ErrStoreNotFound,
  ErrStoreUnhealthy,
  ErrNotImplemented,
  type DataStoreErrorCode,
} from "./errors.js";
export {
  TYPE_URL_PREFIX,
  typeNameOf,
  packAny,
  unpackAny,
  AnyRegistry,
  type AnyMessage,
  type MessageType,
  type Unpacked,
} from "./any.js";
export {
  valueType,
  stringValueType,
  ipAddressKeyType,
  ipReputationType,
  knownMessageTypes,
  REPUTATION_STATUSES,
  type IPReputation,
  type ReputationStatus,
} from "./types.js";
export { checkSource, isWritableStore, MAX_SOURCE_LENGTH, type DataStore, type StoreEntry, type WritableStore } from "./store.js";
export { DataStoreRegistry } from "./registry.js";
export {
  defineWritableStore,
  type StoreSpec,
  type StoreKeyOf,
  type StoreDataOf,
  type StoreCandidate,
  type WritableStoreDefinition,
  type TypedWritableStore,
} from "./define.js";
export * from "./stores/index.js";
