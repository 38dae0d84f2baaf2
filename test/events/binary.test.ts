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
    fc.assert(
      fc.property(traceeEvent, (event) => {
        const bytes = Event.encode(event).finish();
        expect(decodeEventBinary(bytes)).toEqual(Event.decode(bytes));
      }),
      { numRuns: 400 },
    );
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
