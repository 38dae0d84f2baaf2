/**
 * The fast Event reader used by the gRPC input builds exactly what ts-proto's
 * generated decoder builds, on the sample events and on arbitrary ones, and
 * refuses malformed bytes with its own error.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { decodeEventJson } from "tracee-ds/events";
import { describe, expect, it } from "vitest";
import { decodeEventBinary, decodeStreamEventsResponse, EventDecodeError } from "../../src/events/binary.js";
import { Event } from "../../src/gen/tracee/v1beta1/event.js";
import { hasProtoKey } from "../support/json.js";
import { traceeEvent } from "./arbitraries.js";

const samples = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map(decodeEventJson);

describe("decodeEventBinary", () => {
  it("reads every sample event as ts-proto does", () => {
    for (const event of samples) {
      const bytes = Event.encode(event).finish();
      expect(decodeEventBinary(bytes)).toEqual(Event.decode(bytes));
    }
  });

  it("reads arbitrary events as ts-proto does", () => {
    // ts-proto assigns map keys, so a "__proto__" key (in any map: threat properties, pod labels, …)
    // is lost there; ours keeps it (next test).
    const comparable = traceeEvent.filter((event) => !hasProtoKey(event));
    fc.assert(
      fc.property(comparable, (event) => {
        const bytes = Event.encode(event).finish();
        expect(decodeEventBinary(bytes)).toEqual(Event.decode(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it("keeps a leading U+FEFF in a string, as Go does (ts-proto's reader drops it)", () => {
    const sample = samples[0]!;
    const bytes = Event.encode({ ...sample, name: "\uFEFFopenat" }).finish();
    expect(decodeEventBinary(bytes).name).toBe("\uFEFFopenat");
  });

  it("keeps a threat property named __proto__ as an own key, as Tracee's Go map has it", () => {
    const properties = JSON.parse('{"__proto__":"x","Category":"y"}') as Record<string, string>;
    const event = { ...(samples[0] as (typeof samples)[number]), threat: { description: "", mitre: undefined, severity: 0, name: "t", properties } };
    const read = decodeEventBinary(Event.encode(event).finish());
    expect(Object.keys(read.threat?.properties ?? {})).toEqual(["__proto__", "Category"]);
    expect(Object.getPrototypeOf(read.threat?.properties)).toBe(Object.prototype);
  });

  it("reads a StreamEventsResponse around an event", () => {
    const body = Event.encode(samples[0] as (typeof samples)[number]).finish();
    const response = new Uint8Array([0x0a, ...(body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7]), ...body]);
    expect(decodeStreamEventsResponse(response)).toEqual(Event.decode(body));
    expect(decodeStreamEventsResponse(new Uint8Array(0))).toBeUndefined();
  });

  it("refuses truncated and malformed bytes with an EventDecodeError", () => {
    const bytes = Event.encode(samples[6] as (typeof samples)[number]).finish();
    for (const cut of [1, 2, 10, bytes.length - 1]) {
      expect(() => decodeEventBinary(bytes.subarray(0, cut))).toThrow(EventDecodeError);
    }
    expect(() => decodeEventBinary(new Uint8Array([0x0b]))).toThrow(/wire type 3/);
  });
});
