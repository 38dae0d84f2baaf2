/**
 * The stores this SDK ships: Tracee's `ip_reputation` store and the generic
 * JSON store of Tracee's e2e tests.
 *
 * @module
 */
export { normalizeIP } from "./ip-address.js";
export {
  ipReputationStore,
  CONFLICT_POLICIES,
  type ConflictPolicy,
  type IPReputationStore,
  type IPReputationStoreOptions,
  type ResolvedReputation,
} from "./ip-reputation.js";
export { valueStore, type ValueStore, type ValueStoreOptions } from "./value-store.js";
