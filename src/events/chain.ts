/**
 * Detection chains: a detector's output names the event it came from in
 * `detected_from`, whose `parent` names the one before, down to the event
 * that started it all. Go: `GetDetectionChain`, `GetRootDetection`, `GetChainDepth`.
 *
 * @module
 */
import type { DetectedFrom, TraceeEvent } from "./model.js";

type E = Pick<TraceeEvent, "detectedFrom">;

/**
 * The chain from the event this one was detected from (index 0) to the
 * original event (last); empty when `event` was not produced by a detection.
 *
 * @example
 * ```ts
 * getDetectionChain(event).map((d) => d.name); // ["anti_debugging", "ptrace"]
 * ```
 */
export function getDetectionChain(event: E): DetectedFrom[] {
  const chain: DetectedFrom[] = [];
  for (let d = event.detectedFrom; d !== undefined; d = d.parent) chain.push(d);
  return chain;
}

/** The original event of the chain, or `undefined` when there is no chain. */
export function getRootDetection(event: E): DetectedFrom | undefined {
  let d = event.detectedFrom;
  if (d === undefined) return undefined;
  while (d.parent !== undefined) d = d.parent;
  return d;
}

/** How many links the chain has: 0 for an event not produced by a detection, 1 for a direct detection. */
export function getChainDepth(event: E): number {
  let depth = 0;
  for (let d = event.detectedFrom; d !== undefined; d = d.parent) depth++;
  return depth;
}
