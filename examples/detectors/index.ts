/**
 * Tracee's Go detectors, ported to tracee-ds/engine: load the lot with
 *
 * ```sh
 * tracee-ds run --detectors examples/detectors/index.ts
 * ```
 *
 * The engine gives their events ids from 7500 in the order of `detectors`.
 * The e2e writable data source is exported too, so the engine registers it
 * (WRITABLE_DATA_STORE requires it) and `--serve` can take writes into it;
 * so is the `ip_reputation` datastore IP_REPUTATION_CONNECTION reads.
 */
import { antiDebugging } from "./anti-debugging.js";
import { droppedExecutable } from "./dropped-executable.js";
import { e2eWritableDataSource } from "./e2e-writable-data-source.js";
import { ipReputation, ipReputationConnection } from "./ip-reputation-connection.js";
import { kubernetesApiConnection } from "./kubernetes-api-connection.js";
import { writableDataStore } from "./writable-data-store.js";

export { antiDebugging } from "./anti-debugging.js";
export { createDroppedExecutable, droppedExecutable, isElf, isMemoryPath } from "./dropped-executable.js";
export { apiAddressFromEnv, createKubernetesApiConnection, kubernetesApiConnection } from "./kubernetes-api-connection.js";
export { createWritableDataStore, writableDataStore } from "./writable-data-store.js";
export {
  createIpReputationConnection,
  IP_REPUTATION,
  IpReputationRef,
  ipReputation,
  ipReputationConnection,
  threatSeverity,
} from "./ip-reputation-connection.js";
export {
  E2E_CAPACITY,
  E2E_ID,
  E2E_NAMESPACE,
  E2eWritableDataSource,
  E2eWritableRef,
  type E2eValue,
  e2eWritableDataSource,
} from "./e2e-writable-data-source.js";

/** Every detector here, in registration order. */
export const detectors = [antiDebugging, kubernetesApiConnection, droppedExecutable, writableDataStore, ipReputationConnection] as const;

/** The data sources they need. */
export const dataSources = [e2eWritableDataSource] as const;

/** The datastores they read (IP_REPUTATION_CONNECTION registers its own when none is given). */
export const dataStores = [ipReputation] as const;

export default detectors;
