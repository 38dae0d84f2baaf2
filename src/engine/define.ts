/**
 * Writing a detector: `defineDetector` and the output helpers (Go:
 * `detection.Detected`, `detection.DetectedWithData`).
 *
 * @module
 */
import type { EventValue } from "../events/model.js";
import type { Detector, DetectorDefinition, DetectorOutput } from "./types.js";

/**
 * Defines a detector: its definition and hooks, with types inferred from the
 * definition: `onEvent`'s event is one of the required events, and
 * `ctx.get(field)` is typed by the fields the requirements declare.
 * Returns the detector as given (frozen definition), for an engine or a
 * detectors module to export.
 *
 * @example
 * ```ts
 * export const antiDebugging = defineDetector({
 *   definition: {
 *     id: "TRC-102",
 *     requirements: { events: [{ name: "ptrace", fields: { request: "int64" } }] },
 *     producedEvent: { name: "anti_debugging", version: "1.0.0" },
 *     autoPopulate: { threat: true, detectedFrom: true },
 *   },
 *   onEvent(event, ctx) {
 *     if (ctx.get("request") === 0n) return detected(); // PTRACE_TRACEME
 *   },
 * });
 * ```
 */
export function defineDetector<const D extends DetectorDefinition>(detector: Detector<D>): Detector<D> {
  if (typeof detector !== "object" || detector === null || typeof detector.onEvent !== "function") {
    throw new TypeError("defineDetector needs an object with a definition and an onEvent function");
  }
  return detector;
}

/** One detection with no data of its own: everything comes from the event and auto-population. Go: `Detected()`. */
export function detected(): DetectorOutput[] {
  return [{}];
}

/** One detection carrying `data`. Go: `DetectedWithData(data)`. */
export function detectedWithData(data: readonly EventValue[]): DetectorOutput[] {
  return [{ data }];
}
