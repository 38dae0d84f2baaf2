/**
 * tracee-ds/engine: run TypeScript detectors and legacy signatures on
 * Tracee's events, the way Tracee's own engine runs its detectors.
 *
 * - {@link defineDetector}, {@link detected}, {@link detectedWithData}: write a detector.
 * - {@link Engine}: register detectors, signatures, data sources and datastores, and run an input.
 * - {@link storeRef}: a typed name for `params.dataStores.get`.
 *
 * This entry point never loads grpc-js; a gRPC input or `--serve` does.
 *
 * @packageDocumentation
 */
export type {
  AncestorInfo,
  AutoPopulate,
  DataSourceRequirement,
  DataStoreRequirement,
  Dependency,
  Detector,
  DetectorConfig,
  DetectorDataStores,
  DetectorDefinition,
  DetectorEvent,
  DetectorLogger,
  DetectorOutput,
  DetectorParams,
  EventRequirement,
  FieldKinds,
  GetDataSourceFn,
  OnEventContext,
  OnEventResult,
  ProducedEvent,
  ProducedField,
  RequiredEventName,
  StoreRef,
} from "./types.js";
export { defineDetector, detected, detectedWithData } from "./define.js";
export { createDetectorConfig } from "./config.js";
export { storeRef } from "./stores.js";
export {
  Engine,
  EngineRegistrationError,
  isEngineRegistrationError,
  type AddDetectorOptions,
  type DetectionSet,
  type EngineOptions,
  type EngineOutput,
  type ParticipantInfo,
  type ReloadSummary,
  type RunOptions,
  type StreamDataSource,
} from "./engine.js";
export type { EngineMetrics, EngineStats, ParticipantStats } from "./metrics.js";
export {
  DURATION_BUCKETS,
  prometheusMetrics,
  type ObservedInput,
  type ObservedServer,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
} from "./prometheus.js";
export { serveMetrics, type MetricsServer, type MetricsSource } from "./metrics-server.js";
export { compileFilters, FilterSyntaxError, isFilterSyntaxError, type EventFilter, type FilterKind, type FilterRequirement } from "./filters.js";
export { signatureEventIds } from "./signature-adapter.js";
export * from "./builtins/index.js";
export * from "./outputs/index.js";
