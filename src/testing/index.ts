/**
 * tracee-ds/testing: unit-test signatures and data sources without Tracee.
 *
 * Fakes of the data source and datastore contracts, a real signature context that captures
 * findings and logs, a harness that runs a signature the way Tracee's engine
 * does, contract checkers for data sources and writable datastores, and a loopback gRPC server for
 * end-to-end tests. Framework-agnostic: nothing here depends on vitest or
 * jest. Loading this entry point does not load gRPC; `startTestServer` loads
 * it when called.
 *
 * @packageDocumentation
 */
export {
  fakeDataSource,
  fakeWritableDataSource,
  type FakeData,
  type FakeDataSource,
  type FakeDataSourceOptions,
  type FakeKeyKind,
  type FakeWritableDataSource,
  type FakeWritableDataSourceOptions,
  type GetCall,
  type WriteCall,
} from "./fakes.js";
export {
  createSignatureContext,
  type LogLevel,
  type LogLine,
  type SignatureContextOptions,
  type TestSignatureContext,
} from "./context.js";
export { traceeEvent, selectorsMatch, type TraceeEventOptions } from "./events.js";
export {
  SignatureHarness,
  SignatureHarnessError,
  isSignatureHarnessError,
  type HarnessPhase,
  type HarnessState,
  type SignatureHarnessOptions,
} from "./harness.js";
export { DetectorHarness, type DetectorHarnessBaseOptions, type DetectorHarnessOptions, type MultiDetectorHarnessOptions } from "./detector-harness.js";
export {
  checkDataSource,
  assertDataSource,
  DataSourceContractError,
  type CheckDataSourceOptions,
  type CheckWrite,
  type Violation,
  type ViolationKind,
} from "./check.js";
export {
  fakeDataStore,
  type FakeDataStore,
  type FakeDataStoreOptions,
  type FakeStoreEntries,
  type StoreCall,
  type StoreMethod,
} from "./fake-store.js";
export {
  checkWritableStore,
  assertWritableStore,
  WritableStoreContractError,
  type StoreViolation,
  type StoreViolationKind,
  type WritableStoreSamples,
} from "./check-store.js";
export { startTestServer, type TestServer, type TestServerOptions } from "./server.js";
export {
  fakeTracee,
  type FakeTracee,
  type FakeTraceeOptions,
  type FakeTraceeThen,
  type StreamEventsCall,
} from "./fake-tracee.js";
export { buildEvent, type BuildEventOptions, type BuildProcess, type BuildDataValue } from "./build-event.js";
