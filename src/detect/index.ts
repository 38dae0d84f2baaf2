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
} from "./signature.js";
export { DataSourceRegistry, RegistryError, type RegistryErrorCode, type ContextOptions } from "./registry.js";
