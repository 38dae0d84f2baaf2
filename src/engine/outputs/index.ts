/**
 * Where the engine's events go: Tracee's own outputs, in TypeScript.
 *
 * - {@link jsonOutput}: Tracee's JSON lines (`--output json[:PATH]`), byte for byte.
 * - {@link webhookOutput}: one POST per event (`--output webhook:URL`), with
 *   bounded retries, a bounded queue and counters.
 * - {@link tableOutput}: one readable line per event, for a terminal.
 * - {@link parseOutputSpec} / {@link openOutput}: the command line's specs.
 *
 * @module
 */
export type { EventOutput, OutputErrorHandler, OutputStats } from "./types.js";
export type { OutputStream } from "./stream.js";
export { jsonOutput, type JsonOutputOptions } from "./json.js";
export {
  webhookOutput,
  WebhookOutputError,
  isWebhookOutputError,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  DEFAULT_WEBHOOK_QUEUE_CAPACITY,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type WebhookOutputOptions,
} from "./webhook.js";
export { tableOutput, formatTableRow, tableHeader, type TableOutputOptions } from "./table.js";
export {
  parseOutputSpec,
  openOutput,
  OutputSpecError,
  isOutputSpecError,
  OUTPUT_SPEC_FORMS,
  type OutputSpec,
  type OpenOutputOptions,
} from "./spec.js";
