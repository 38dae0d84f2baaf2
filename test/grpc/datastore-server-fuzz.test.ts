/**
 * No input crashes the DataStoreService server: random, truncated and
 * mutated request bytes for each of the five methods over a real connection
 * get a status the table allows (never INTERNAL or UNKNOWN, which would mean
 * a decoder threw into grpc-js), and the server still answers afterwards.
 * The decoder also agrees with the generated ts-proto decoder on every valid
 * request.
 */
import fc from "fast-check";
import { ipAddressKeyType, ipReputationType, packAny } from "tracee-ds";
import { DATASTORE_METHODS, type DataStoreMethod, Status } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import {
  ClearSourceRequest,
  DeleteDataRequest,
  ListSourcesRequest,
  WriteBatchDataRequest,
  WriteDataRequest,
} from "../../src/gen/tracee/v1beta1/datastores/writable.js";
import { decodeDataStoreRequest } from "../../src/grpc/datastore-codec.js";
import { RawStoresClient, serveStores, storeFixture, StoresClient } from "./fixtures/datastore-store.js";

const key = packAny(ipAddressKeyType, "192.0.2.1");
const data = packAny(ipReputationType, { status: "allow", severity: 2, tags: ["x"], metadata: { a: "b" } });
const asBuffer = (any: { typeUrl: string; value: Uint8Array }) => ({ typeUrl: any.typeUrl, value: Buffer.from(any.value) });
const entry = { key: asBuffer(key), data: asBuffer(data) };

/** One valid request of each method, as ts-proto encodes it. */
const VALID: Record<DataStoreMethod, Uint8Array> = {
  WriteData: WriteDataRequest.encode({ storeName: "ip_reputation", source: "fuzz", entry }).finish(),
  WriteBatchData: WriteBatchDataRequest.encode({ storeName: "ip_reputation", source: "fuzz", entries: [entry, entry] }).finish(),
  DeleteData: DeleteDataRequest.encode({ storeName: "ip_reputation", source: "fuzz", key: entry.key }).finish(),
  ClearSource: ClearSourceRequest.encode({ storeName: "ip_reputation", source: "fuzz" }).finish(),
  ListSources: ListSourcesRequest.encode({ storeName: "ip_reputation" }).finish(),
};

/** What a hostile request may get: client mistakes, an unknown store, or OK. */
const ALLOWED = new Set<number>([Status.OK, Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.UNIMPLEMENTED]);

function hostileBytes(method: DataStoreMethod): fc.Arbitrary<Uint8Array> {
  const valid = VALID[method];
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    // A valid request cut short.
    fc.nat({ max: valid.length }).map((n) => valid.subarray(0, n)),
    // A valid request with a few bytes changed.
    fc
      .array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
      .map((edits) => {
        const copy = Uint8Array.from(valid);
        for (const [at, byte] of edits) copy[at] = byte;
        return copy;
      }),
    // Valid bytes with random bytes around them.
    fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 })).map(([a, b]) => Uint8Array.from([...a, ...valid, ...b])),
  );
}

describe("hostile request bytes over a real connection", () => {
  it.each(DATASTORE_METHODS)("%s: every answer is a status the table allows, and the server keeps serving", async (method) => {
    const { registry } = storeFixture();
    const server = await serveStores(registry);
    const raw = new RawStoresClient(server.address);
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileBytes(method), async (bytes) => {
        const outcome = await raw.call(method, bytes);
        seen.set(outcome.code, (seen.get(outcome.code) ?? 0) + 1);
        expect(ALLOWED.has(outcome.code), `${outcome.code} ${outcome.details}`).toBe(true);
      }),
      { numRuns: 150 },
    );
    // The hostile inputs reached more than one outcome (the generator is not trivially refused).
    expect(seen.get(Status.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(0);
    const client = new StoresClient(server.address);
    expect((await client.listSources("ip_reputation").outcome).code).toBe(Status.OK);
    expect(server.stats().answers[method].INTERNAL).toBeUndefined();
  });
});

describe("the decoder agrees with ts-proto", () => {
  // Any UTF-16, lone surrogates too: both sides read what the encoder made of them.
  const text = (maxLength?: number) => fc.string({ unit: "binary", ...(maxLength === undefined ? {} : { maxLength }) });
  const anyArb = fc.record({ typeUrl: text(40), value: fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)) });
  const entryArb = fc.record({ key: fc.option(anyArb, { nil: undefined }), data: fc.option(anyArb, { nil: undefined }) });
  const limits = { maxMessageBytes: 1 << 20, maxBatchEntries: 1000 };
  const plainAny = (a: { typeUrl: string; value: Uint8Array } | undefined) =>
    a === undefined ? undefined : { typeUrl: a.typeUrl, value: Array.from(a.value) };
  const plainEntry = (e: { key?: { typeUrl: string; value: Uint8Array } | undefined; data?: { typeUrl: string; value: Uint8Array } | undefined }) => ({
    key: plainAny(e.key),
    data: plainAny(e.data),
  });

  it("on WriteBatchData requests of any strings and entries", () => {
    fc.assert(
      fc.property(text(), text(), fc.array(entryArb, { maxLength: 8 }), (storeName, source, entries) => {
        const bytes = WriteBatchDataRequest.encode({ storeName, source, entries }).finish();
        const ours = decodeDataStoreRequest("WriteBatchData", bytes, limits);
        const theirs = WriteBatchDataRequest.decode(bytes);
        if (!ours.ok) throw new Error(ours.details);
        expect(ours.storeName).toBe(theirs.storeName);
        expect(ours.source).toBe(theirs.source);
        expect(ours.entries.map(plainEntry)).toEqual(theirs.entries.map(plainEntry));
      }),
    );
  });

  it("on WriteData and DeleteData requests", () => {
    fc.assert(
      fc.property(text(), fc.option(entryArb, { nil: undefined }), fc.option(anyArb, { nil: undefined }), (source, entry, key) => {
        const write = WriteDataRequest.encode({ storeName: "s", source, entry }).finish();
        const ours = decodeDataStoreRequest("WriteData", write, limits);
        if (!ours.ok) throw new Error(ours.details);
        expect(ours.entries.map(plainEntry)).toEqual(entry === undefined ? [] : [plainEntry(entry)]);
        const del = DeleteDataRequest.encode({ storeName: "s", source, key }).finish();
        const decoded = decodeDataStoreRequest("DeleteData", del, limits);
        if (!decoded.ok) throw new Error(decoded.details);
        expect(plainAny(decoded.key)).toEqual(plainAny(key));
      }),
    );
  });
});
