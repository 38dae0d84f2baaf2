/**
 * tracee-ds/events: Tracee's events in TypeScript.
 *
 * - {@link TraceeEvent}: the event as Tracee streams it (`tracee.v1beta1.Event`),
 *   with {@link getData} / {@link getDataSafe}, workload getters, detection
 *   chain helpers and value constructors for building outputs.
 * - {@link decodeEventJson} / {@link encodeEventJson}: Tracee's own JSON
 *   (`tracee --output json`, webhook bodies), byte for byte.
 *
 * This entry point never loads grpc-js; the gRPC input loads it when used.
 *
 * @packageDocumentation
 */
export {
  type TraceeEvent,
  type EventValue,
  type EventValueKind,
  type EventValueKinds,
  type DetectedFrom,
  EVENT_VALUE_KINDS,
  kindOf,
  EventId,
  Severity,
  SaFamily,
  type Capability,
  type Container,
  type ContainerImage,
  type Credentials,
  type DNS,
  type DnsQuestions,
  type DnsResponses,
  type Executable,
  type HookedSeqOps,
  type HookedSyscalls,
  type HTTP,
  type HTTPRequest,
  type HTTPResponse,
  type ICMP,
  type ICMPv6,
  type Int32ArrayMessage,
  type IPv4,
  type IPv6,
  type K8s,
  type K8sNamespace,
  type Mitre,
  type MitreTactic,
  type MitreTechnique,
  type PacketMetadata,
  type Pod,
  type Policies,
  type Process,
  type SockAddr,
  type StackAddress,
  type StringArray,
  type TCP,
  type Thread,
  type Threat,
  type Timespec,
  type Timestamp,
  type UDP,
  type UInt64Array,
  type User,
  type UserStackTrace,
  type Workload,
} from "./model.js";
export {
  getData,
  getDataSafe,
  eventData,
  EventDataError,
  isEventDataError,
  type DataResult,
  type EventDataValue,
  type GetDataOptions,
  type HasData,
} from "./data.js";
export * from "./workload.js";
export { getDetectionChain, getRootDetection, getChainDepth } from "./chain.js";
export {
  newValue,
  newStringValue,
  newInt32Value,
  newInt64Value,
  newUInt32Value,
  newUInt64Value,
  newBoolValue,
  newBytesValue,
} from "./values.js";
export { encodeEventJson } from "./json/encode.js";
export {
  decodeEventJson,
  safeDecodeEventJson,
  EventJsonError,
  isEventJsonError,
  type DecodeEventResult,
} from "./json/decode.js";
export {
  streamEvents,
  StreamEventsError,
  isStreamEventsError,
  TRACEE_EVENTS_ADDRESS,
  type StreamEventsOptions,
  type ReconnectOptions,
  type ReconnectInfo,
} from "./inputs/grpc.js";
export type { EventInput, InputOptions } from "./inputs/input.js";
export {
  DEFAULT_QUEUE_CAPACITY,
  type InputStats,
  type OverflowPolicy,
  type QueueOptions,
} from "./queue.js";
export * from "./legacy/index.js";
export {
  readEvents,
  EventLineError,
  isEventLineError,
  type EventFormat,
  type EventLineFormat,
  type MalformedPolicy,
  type ReadEventsOptions,
  type ReadEventsSource,
} from "./inputs/ndjson.js";
export {
  webhookEvents,
  DEFAULT_WEBHOOK_MAX_BODY_BYTES,
  type WebhookEventsOptions,
  type WebhookInput,
} from "./inputs/webhook.js";
