/**
 * `WRITABLE_DATA_STORE`, Tracee's end-to-end check that a writable data
 * store can be written from outside and read by a detector, ported from Go
 * (detectors/e2e/writable_data_store.go; its legacy signature form was
 * WRITABLE_DATA_SOURCE).
 *
 * Tracee's e2e script runs `ds_writer`, which writes `bruh` = `moment` into
 * the store over gRPC and exits. The detector fires on the `sched_process_exit`
 * of a thread named `ds_writer` once the store holds that value, so each
 * exit after the write is one detection. It reads the data source of
 * e2e-writable-data-source.ts, which the engine must have registered.
 */
import { errorIs, ErrDataNotFound } from "tracee-ds";
import { defineDetector, detected, type Detector } from "tracee-ds/engine";
import { getProcessThreadName } from "tracee-ds/events";
import { E2E_ID, E2E_NAMESPACE, type E2eWritableDataSource, E2eWritableRef } from "./e2e-writable-data-source.js";

const definition = {
  id: "WRITABLE_DATA_STORE",
  requirements: {
    events: [{ name: "sched_process_exit" }],
    dataSources: [{ namespace: E2E_NAMESPACE, id: E2E_ID }],
  },
  producedEvent: {
    name: "WRITABLE_DATA_STORE",
    description: "Instrumentation events E2E Tests: Writable Data Store (DataStoreService + Registry)",
    version: "0.1.0",
    tags: ["e2e"],
  },
  // Tracee's definition asks for the threat too, but has none to copy.
  autoPopulate: { threat: true, detectedFrom: true },
} as const;

/** The process that writes the value, in Tracee's e2e script. */
const WRITER = "ds_writer";

/** A new WRITABLE_DATA_STORE detector (the export below is one, for the engine to load). */
export function createWritableDataStore(): Detector<typeof definition> {
  let store: E2eWritableDataSource | undefined;
  return defineDetector({
    definition,
    init(params) {
      store = params.getDataSource(E2eWritableRef);
      if (store === undefined) throw new Error(`data source ${E2E_NAMESPACE}/${E2E_ID} is not registered`);
      if (store.version() > 1) throw new Error(`data source ${E2E_NAMESPACE}/${E2E_ID} version ${store.version()} is newer than this detector knows`);
    },
    onEvent(event) {
      if (store === undefined || getProcessThreadName(event) !== WRITER) return undefined;
      let value: string;
      try {
        value = store.get("bruh").value;
      } catch (err) {
        if (errorIs(err, ErrDataNotFound)) return undefined; // not written yet
        throw err;
      }
      return value === "moment" ? detected() : undefined;
    },
  });
}

export const writableDataStore = createWritableDataStore();

export default writableDataStore;
