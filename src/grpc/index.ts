/**
 * tracee-ds/grpc: Tracee's gRPC DataSourceService, both sides.
 *
 * - {@link serveDataSources} serves a registry's data sources the way Tracee
 *   does (same service, same status codes), without Tracee's crashes, with
 *   limits, authorization and all-or-nothing streams.
 * - {@link dataSourceService} is the same service for a `grpc.Server` you run.
 * - {@link serveDataStores} / {@link dataStoreService} serve Tracee's
 *   writable datastores (`DataStoreService`) from a `DataStoreRegistry`,
 *   alone or beside the data sources on one address.
 * - {@link DataSourceClient} writes into data sources of Tracee itself or of
 *   this SDK's server.
 * - {@link DataStoreClient} writes into Tracee's writable datastores
 *   (`DataStoreService`), such as `ip_reputation`, in batches of any size.
 *
 * @packageDocumentation
 */
export {
  serveDataSources,
  serveDataStores,
  type ServeOptions,
  type ServeDataStoresOptions,
  type DataSourceServer,
  type DataSourceServerStats,
  type DataStoreServer,
  type DataStoreServerStats,
  type CloseOptions,
} from "./server.js";
export {
  dataSourceService,
  type DataSourceServiceHandle,
  type DataSourceServiceOptions,
  type DataSourceLookup,
  type Authorize,
  type AuthorizeRequest,
  SERVICE_NAME,
  WRITE_PATH,
  WRITE_STREAM_PATH,
} from "./service.js";
export {
  dataStoreService,
  type DataStoreServiceHandle,
  type DataStoreServiceOptions,
  type DataStoreLookup,
  type DataStoreMethod,
  type DataStoreStats,
  DATASTORE_SERVICE_NAME,
  DATASTORE_METHODS,
} from "./datastore-service.js";
export { type DataStoreLimits, DEFAULT_SERVER_MAX_BATCH_ENTRIES } from "./datastore-limits.js";
export {
  DataSourceClient,
  type DataSourceClientOptions,
  type DataSourceWriter,
  type Entries,
  type WriteOptions,
  type WriteRequest,
} from "./client.js";
export { DataSourceClientError, isDataSourceClientError, statusName, type StatusName } from "./errors.js";
export {
  DataStoreClient,
  type DataStoreClientOptions,
  type RemoteDataStore,
  type RawDataEntry,
  type WriteDataRequest,
  type WriteBatchDataRequest,
  type DeleteDataRequest,
  type ClearSourceRequest,
  type ListSourcesRequest,
} from "./datastore-client.js";
export type { DataStoreCallOptions } from "./datastore-call.js";
export {
  WriteAllError,
  isWriteAllError,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_ENTRIES,
  type WriteAllOptions,
  type WriteAllProgress,
  type WriteAllResult,
  type FailedBatch,
} from "./datastore-batch.js";
export {
  type Limits,
  type LimitName,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_STREAM_ENTRIES,
  DEFAULT_MAX_STREAM_BYTES,
  DEFAULT_MAX_SERVER_BUFFERED_BYTES,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
} from "./limits.js";
export type { ServiceStats } from "./budget.js";
export { TRACEE_DEFAULT_ADDRESS } from "./address.js";
/** gRPC status codes (grpc-js's `status` enum): compare with `DataSourceClientError.code`. */
export { status as Status } from "@grpc/grpc-js";
