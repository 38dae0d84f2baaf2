/**
 * Tracee's legacy event JSON (`trace.Event`): the format `tracee analyze`
 * reads, older Tracee versions printed, and legacy signatures receive as
 * their payload. Read it, convert it to the v1beta1 event model and back,
 * and build the event a legacy signature receives.
 *
 * @module
 */
export { eventToLegacy, legacyOrigin, type LegacyEventOrigin, legacySignatureEvent, legacyToEvent } from "./convert.js";
export { decodeLegacyEventJson } from "./decode.js";
export { isLegacyEventJsonError, LegacyEventJsonError } from "./errors.js";
export type {
  LegacyArgument,
  LegacyContainer,
  LegacyContextFlags,
  LegacyEvent,
  LegacyJsonValue,
  LegacyKubernetes,
  LegacyMetadata,
} from "./types.js";
