export {
  DetectError,
  type DetectErrorCode,
  ErrDataNotFound,
  ErrKeyNotSupported,
  ErrFailedToUnmarshal,
  errorIs,
  isDetectError,
  wrapError,
} from "./errors.js";
export {
  type DataSource,
  type WritableDataSource,
  type WriteKey,
  type WriteData,
  type DataSourceRef,
  dataSourceRef,
  isDataSource,
  isWritable,
} from "./data-source.js";
export type {
  Event,
  EventSelector,
  Finding,
  GetDataSource,
  Logger,
  Signal,
  Signature,
  SignatureContext,
  SignatureEventSelector,
  SignatureMetadata,
  SignalSourceComplete,
} from "./signature.js";
export { isSignalSourceComplete, signalSourceComplete, SOURCE_COMPLETE_TRACEE } from "./signature.js";
export { DataSourceRegistry, RegistryError, type RegistryErrorCode, type ContextOptions } from "./registry.js";
