/**
 * The message types this SDK ships for datastores: `google.protobuf.Value`
 * (JSON values, through the codec) and `google.protobuf.StringValue`, and the
 * `ip_reputation` key and data — Tracee's `IPAddressKey` and `IPReputation`,
 * read into plain TypeScript values.
 *
 * @module
 */
import type { JsonValue } from "type-fest";
import { fromValueBinary } from "../codec/wire/decode-binary.js";
import { toValueBinary } from "../codec/wire/encode-binary.js";
import { StringValue } from "../gen/google/protobuf/wrappers.js";
import {
  IPAddressKey as IPAddressKeyMessage,
  IPReputation as IPReputationMessage,
} from "../gen/tracee/v1beta1/datastores/ipreputation.js";
import { AnyRegistry, type MessageType } from "./any.js";

/** `google.protobuf.Value`: any JSON value (Tracee's generic store packs keys and data this way). */
export const valueType: MessageType<JsonValue> = {
  typeName: "google.protobuf.Value",
  encode: (value) => toValueBinary(value),
  decode: (bytes) => fromValueBinary(bytes),
};

/** `google.protobuf.StringValue`: a string (Go: `wrapperspb.String`). */
export const stringValueType: MessageType<string> = {
  typeName: "google.protobuf.StringValue",
  encode: (value) => StringValue.encode({ value }).finish(),
  decode: (bytes) => StringValue.decode(bytes).value,
};

/** How a source rates an address. Go: `ReputationStatus`, whose `String()` gives these names. */
export type ReputationStatus = "unknown" | "allow" | "deny" | "suspicious";

/** The statuses in wire order: `REPUTATION_UNKNOWN` = 0 … `REPUTATION_SUSPICIOUS` = 3. */
export const REPUTATION_STATUSES: readonly ReputationStatus[] = Object.freeze(["unknown", "allow", "deny", "suspicious"]);

/**
 * What a source says about an IP address. Go: `ipreputation.IPReputation`
 * (`tracee.v1beta1.datastores.IPReputation` on the wire).
 */
export interface IPReputation {
  readonly status: ReputationStatus;
  /** 1 (lowest) to 10. */
  readonly severity: number;
  /** Labels such as `"botnet"`, `"c2"`. */
  readonly tags: readonly string[];
  /**
   * When the source last updated this verdict; last-write-wins compares it.
   * Absent on the wire reads as `undefined` (Go reads the Unix epoch). A
   * `Date` holds milliseconds: finer digits of a wire timestamp are dropped.
   */
  readonly lastUpdated?: Date | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

/** `tracee.v1beta1.datastores.IPAddressKey`, read as the address text it holds. */
export const ipAddressKeyType: MessageType<string> = {
  typeName: "tracee.v1beta1.datastores.IPAddressKey",
  encode: (ip) => IPAddressKeyMessage.encode({ ip }).finish(),
  decode: (bytes) => IPAddressKeyMessage.decode(bytes).ip,
};

const MS_PER_SECOND = 1000n;

function toTimestamp(date: Date): { seconds: bigint; nanos: number } {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("lastUpdated is an invalid Date");
  const whole = BigInt(Math.floor(ms / 1000));
  return { seconds: whole, nanos: (ms - Number(whole * MS_PER_SECOND)) * 1_000_000 };
}

/**
 * `tracee.v1beta1.datastores.IPReputation`. Decoding throws on a status
 * outside the enum (Tracee refuses it too); severity is left to the store to
 * validate.
 */
export const ipReputationType: MessageType<IPReputation> = {
  typeName: "tracee.v1beta1.datastores.IPReputation",
  encode: (rep) => {
    const status = REPUTATION_STATUSES.indexOf(rep.status);
    if (status < 0) throw new RangeError(`invalid reputation status: ${JSON.stringify(rep.status)}`);
    return IPReputationMessage.encode({
      status,
      severity: rep.severity,
      tags: rep.tags === undefined ? [] : [...rep.tags],
      lastUpdated: rep.lastUpdated === undefined ? undefined : toTimestamp(rep.lastUpdated),
      metadata: { ...rep.metadata },
    }).finish();
  },
  decode: (bytes) => {
    const message = IPReputationMessage.decode(bytes);
    const ts = message.lastUpdated;
    const status = REPUTATION_STATUSES[message.status];
    if (status === undefined) throw new RangeError(`invalid reputation status: ${message.status}`);
    return {
      status,
      severity: message.severity,
      tags: message.tags,
      lastUpdated: ts === undefined ? undefined : new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000)),
      metadata: message.metadata,
    };
  },
};

/** The message types this SDK ships, in a new registry (add your own with `register`). */
export function knownMessageTypes(): AnyRegistry {
  return new AnyRegistry([valueType, stringValueType, ipAddressKeyType, ipReputationType] as MessageType<unknown>[]);
}
