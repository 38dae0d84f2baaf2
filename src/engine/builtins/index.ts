/**
 * The built-in data sources of `tracee-ds/engine`: Tracee's `process_tree`,
 * `containers` and `dns` (namespace `tracee`), rebuilt from the events the
 * engine reads, so ported signatures find them with
 * `ctx.getDataSource("tracee", …)`.
 *
 * @module
 */
export {
  builtinDataSources,
  type BuiltinDataSources,
  type BuiltinDataSourcesOptions,
} from "./factory.js";
export { type BuiltinDataSource, type BuiltinStats, type QueryTime } from "./shared.js";
export {
  ProcessTreeDataSource,
  processTreeRef,
  procKey,
  threadKey,
  lineageKey,
  PROCESS_TREE_EVENTS,
  DEFAULT_MAX_PROCESSES,
  DEFAULT_EXITED_RETENTION_MS,
  type ProcessTreeOptions,
  type ProcessInfo,
  type TimeRelevantInfo,
  type TreeFileInfo,
  type TreeProcessInfo,
  type TreeThreadInfo,
  type ProcessLineage,
  type ProcKey,
  type ThreadKey,
  type LineageKey,
  type ProcessTreeKey,
  type ProcessTreeResult,
  type ProcessInfoResult,
  type ThreadInfoResult,
  type LineageResult,
} from "./process-tree.js";
export {
  ContainersDataSource,
  containersRef,
  CONTAINERS_EVENTS,
  DEFAULT_MAX_CONTAINERS,
  DEFAULT_REMOVED_RETENTION_MS,
  type ContainersOptions,
  type ContainerResult,
  type ContainerInfo,
  type K8sPodInfo,
} from "./containers.js";
export {
  DnsDataSource,
  dnsRef,
  DNS_EVENTS,
  DEFAULT_MAX_DNS_ENTRIES,
  type DnsOptions,
  type DnsResult,
  type DnsResponse,
  type DnsStats,
} from "./dns.js";
export { hashTaskId } from "./hash.js";
