/**
 * The threshold example's rule as a detector (compare signature.ts, the same
 * rule as a legacy signature): report a process that opens more files than
 * the threshold data source allows, once, until it exits.
 *
 * What the detector API changes:
 * - the engine checks that the data source is registered before `init` (the
 *   signature looks it up and throws itself); `init` still refuses a version
 *   newer than it knows;
 * - the engine builds the output event: the definition's threat, the
 *   triggering event in `detected_from`, and the data `onEvent` returns. The
 *   data are the signature's finding data with the kinds Tracee gives them
 *   when it converts a finding (a Go `int` is an `int64`), so both forms
 *   print the same `data`.
 *
 * The threshold is read on every file open, so a value written from outside
 * (`tracee-ds write`, or `--serve`) takes effect at once. The exported
 * `thresholdDataSource` lets `tracee-ds run --detectors examples/threshold/detector.ts`
 * register it; run the signature or the detector, not both: they share
 * their id and event name.
 */
import type { DataSource } from "tracee-ds";
import { defineDetector, type Detector } from "tracee-ds/engine";
import { getProcessHostPid, getProcessThreadName, newInt64Value, newStringValue, Severity } from "tracee-ds/events";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE, ThresholdDataSource } from "./threshold-datasource.js";

const DESCRIPTION = "A process opened more files than the configured threshold.";

const definition = {
  id: "TRC-DS-1",
  requirements: {
    events: [{ name: "security_file_open" }, { name: "sched_process_exit" }],
    dataSources: [{ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID }],
  },
  producedEvent: {
    name: "excessive_file_opens",
    description: DESCRIPTION,
    version: "1.0.0",
    tags: ["example"],
    fields: [
      { name: "processName", type: "string" },
      { name: "pid", type: "int64" },
      { name: "opens", type: "int64" },
      { name: "threshold", type: "int64" },
    ],
  },
  // The signature's metadata says Severity 2: MEDIUM.
  threat: { name: "Excessive file opens", description: DESCRIPTION, severity: Severity.MEDIUM, mitre: undefined, properties: {} },
  autoPopulate: { threat: true, detectedFrom: true },
} as const;

/** A new threshold detector: its counts start empty at `init`. */
export function createExcessiveFileOpens(): Detector<typeof definition> {
  let thresholdData: DataSource | undefined;
  // Open count per host pid, and the pids already reported.
  const opens = new Map<number, number>();
  const reported = new Set<number>();
  return defineDetector({
    definition,
    init(params) {
      thresholdData = params.getDataSource(THRESHOLD_NAMESPACE, THRESHOLD_ID);
      if (thresholdData === undefined) throw new Error("threshold data source not registered");
      if (thresholdData.version() > 1) {
        throw new Error("threshold data source version not supported, please update this detector");
      }
      opens.clear();
      reported.clear();
    },
    onEvent(event) {
      const pid = getProcessHostPid(event);
      if (event.name === "sched_process_exit") {
        opens.delete(pid);
        reported.delete(pid);
        return undefined;
      }
      const count = (opens.get(pid) ?? 0) + 1;
      opens.set(pid, count);
      const threshold = thresholdData?.get("threshold")["threshold"];
      if (typeof threshold !== "number") throw new Error("threshold data source returned no number");
      if (count <= threshold || reported.has(pid)) return undefined;
      reported.add(pid);
      return [
        {
          data: [
            newStringValue("processName", getProcessThreadName(event)),
            newInt64Value("pid", pid),
            newInt64Value("opens", count),
            newInt64Value("threshold", threshold),
          ],
        },
      ];
    },
    close() {
      opens.clear();
      reported.clear();
    },
  });
}

export const excessiveFileOpens = createExcessiveFileOpens();

/** The data source it reads, for `tracee-ds run --detectors` to register (and `--serve` to take writes). */
export const thresholdDataSource = new ThresholdDataSource();

export default excessiveFileOpens;
