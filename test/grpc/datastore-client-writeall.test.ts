/**
 * `writeAll`: large, lazy and async inputs in WriteBatchData calls under the
 * size and count limits, against the reference server (whose grpc-js receive
 * limit is set to the batch limit, so a batch over it would fail there);
 * progress, failures mid-way with exact counts, oversize and bad entries,
 * aborts, concurrency.
 */
import { type IPReputation, valueType } from "tracee-ds";
import {
  DataStoreClient,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_ENTRIES,
  isDataSourceClientError,
  isWriteAllError,
  Status,
  WriteAllError,
  type WriteAllProgress,
} from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { IPAddressKey } from "../../src/gen/tracee/v1beta1/datastores/ipreputation.js";
import { fromValueBinary } from "tracee-ds/codec";
import { type DataStoreFixture, startDataStoreServer } from "./fixtures/datastore-server.js";

const fixtures: DataStoreFixture[] = [];
const clients: DataStoreClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function setup(options: { transport?: "tcp" | "unix"; maxReceiveBytes?: number } = {}) {
  const f = await startDataStoreServer(options);
  fixtures.push(f);
  const client = new DataStoreClient(f.address);
  clients.push(client);
  return { f, client };
}

async function writeAllError(promise: Promise<unknown>): Promise<WriteAllError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWriteAllError(err)) throw new Error(`expected a WriteAllError, got ${String(err)}`);
  return err;
}

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const rep = (i: number, over: Partial<IPReputation> = {}): IPReputation => ({
  status: "deny",
  severity: (i % 10) + 1,
  tags: ["feed", `t${i % 7}`],
  lastUpdated: new Date(1_700_000_000_000 + i),
  metadata: { row: String(i) },
  ...over,
});
function* ipEntries(n: number, over?: (i: number) => Partial<IPReputation>) {
  for (let i = 0; i < n; i++) yield { key: ipOf(i), data: rep(i, over?.(i)) };
}
/** The IPs of every WriteBatchData the server received, in order. */
const sentIps = (f: DataStoreFixture) =>
  f.calls.filter((c) => c.method === "WriteBatchData").flatMap((c) => c.entries.map((e) => IPAddressKey.decode(e.key!.value).ip));

describe("writeAll", () => {
  it("defaults to 1 MiB and 10,000 entries a batch", () => {
    expect(DEFAULT_MAX_BATCH_BYTES).toBe(1024 * 1024);
    expect(DEFAULT_MAX_BATCH_ENTRIES).toBe(10_000);
  });

  it("splits by entry count: 25,000 entries in batches of 10,000, 10,000 and 5,000, in order", async () => {
    const { f, client } = await setup({ transport: "unix" });
    const result = await client.ipReputation().writeAll("feed", ipEntries(25_000), { maxBatchBytes: 3 * 1024 * 1024 });
    const batches = f.calls.filter((c) => c.method === "WriteBatchData");
    expect(batches.map((c) => c.entries.length)).toEqual([10_000, 10_000, 5_000]);
    expect(batches.every((c) => c.store === "ip_reputation" && c.source === "feed")).toBe(true);
    expect(result.written).toBe(25_000);
    expect(result.stored).toBe(25_000);
    expect(result.batches).toBe(3);
    expect(result.bytes).toBe(batches.reduce((n, c) => n + c.size, 0));
    expect(sentIps(f)).toEqual(Array.from({ length: 25_000 }, (_, i) => ipOf(i)));
    expect(f.entries("ip_reputation", "feed").size).toBe(25_000);
  });

  it("splits by size: every batch fits maxBatchBytes, which the server enforces as its receive limit", async () => {
    const limit = 16 * 1024;
    const { f, client } = await setup({ maxReceiveBytes: limit });
    // Entries of varied sizes, some large, so batches end at different counts.
    const big = (i: number) => ({ metadata: { note: "x".repeat((i * 37) % 3000) } });
    const progress: WriteAllProgress[] = [];
    const result = await client
      .ipReputation()
      .writeAll("feed", ipEntries(2_000, big), { maxBatchBytes: limit, onProgress: (p) => progress.push(p) });
    const batches = f.calls.filter((c) => c.method === "WriteBatchData");
    expect(batches.length).toBeGreaterThan(20);
    for (const b of batches) expect(b.size).toBeLessThanOrEqual(limit);
    // Batches are full: each next entry would not have fitted (no batch ends early by much).
    expect(new Set(batches.map((b) => b.entries.length)).size).toBeGreaterThan(1);
    expect(sentIps(f)).toEqual(Array.from({ length: 2_000 }, (_, i) => ipOf(i)));
    expect(result).toEqual({ written: 2_000, stored: 2_000, batches: batches.length, bytes: batches.reduce((n, c) => n + c.size, 0) });
    // Progress: once per batch, every count growing, ending at the result.
    expect(progress).toHaveLength(batches.length);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.written).toBeGreaterThan(progress[i - 1]!.written);
      expect(progress[i]!.bytes).toBeGreaterThan(progress[i - 1]!.bytes);
      expect(progress[i]!.batches).toBe(i + 1);
    }
    expect(progress.at(-1)).toEqual(result);
  });

  it("reads an async source lazily: never more than two batches ahead of what the server acknowledged", async () => {
    const { f, client } = await setup();
    let read = 0;
    let acknowledged = 0;
    let mostAhead = 0;
    async function* source() {
      for (let i = 0; i < 5_000; i++) {
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
        read++;
        mostAhead = Math.max(mostAhead, read - acknowledged);
        yield { key: `k${i}`, data: { i } };
      }
    }
    const result = await client
      .store("values", { key: valueType, data: valueType })
      .writeAll("bulk", source(), { maxBatchEntries: 250, onProgress: (p) => (acknowledged = p.written) });
    expect(result.written).toBe(5_000);
    expect(result.batches).toBe(20);
    expect(mostAhead).toBeLessThanOrEqual(2 * 250 + 1);
    expect(f.calls.map((c) => c.entries.length)).toEqual(Array(20).fill(250));
    expect(fromValueBinary(f.calls[19]!.entries[249]!.data!.value)).toEqual({ i: 4_999 });
  });

  it("a refused batch stops the run: the error says which batch, how many were written and where to resume", async () => {
    const { f, client } = await setup();
    f.hook = (call, index) => {
      if (call.method === "WriteBatchData" && index === 2) throw { code: Status.RESOURCE_EXHAUSTED, details: "store is full" };
    };
    let read = 0;
    function* counted() {
      for (const e of ipEntries(10_000)) {
        read++;
        yield e;
      }
    }
    const err = await writeAllError(client.ipReputation().writeAll("feed", counted(), { maxBatchEntries: 1_000 }));
    expect(err).toBeInstanceOf(WriteAllError);
    expect(isDataSourceClientError(err)).toBe(true);
    expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(err.message).toBe(
      "RESOURCE_EXHAUSTED: batch 3 (entries 2000-2999) failed: store is full; " +
        "2000 entries in 2 batches were written before it (resume at entry 2000)",
    );
    expect([err.written, err.stored, err.batches, err.resumeAt]).toEqual([2_000, 2_000, 2, 2_000]);
    expect(err.failedBatch).toEqual({ number: 3, firstEntry: 2_000, entries: 1_000 });
    expect(err.cause).toMatchObject({ codeName: "RESOURCE_EXHAUSTED", details: "store is full" });
    // Nothing after the failed batch was sent, and reading stopped within a batch of it.
    expect(f.calls).toHaveLength(3);
    expect(read).toBeLessThanOrEqual(4_001);
    expect(f.entries("ip_reputation", "feed").size).toBe(2_000);
  });

  it("a batch the server finds invalid: nothing of it is stored (batches are atomic)", async () => {
    const { f, client } = await setup();
    const err = await writeAllError(
      client.ipReputation().writeAll("feed", ipEntries(3_000, (i) => (i === 1_234 ? { severity: 11 } : {})), { maxBatchEntries: 500 }),
    );
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.details).toContain("batch 3 (entries 1000-1499) failed: entry 234: severity must be 1-10, got 11");
    expect(err.resumeAt).toBe(1_000);
    expect(f.entries("ip_reputation", "feed").size).toBe(1_000);
  });

  it("an entry too large for a batch on its own: named by index, and the batch it would join is not sent", async () => {
    const { f, client } = await setup();
    const huge = (i: number) => (i === 7 ? { metadata: { blob: "x".repeat(5_000) } } : {});
    const err = await writeAllError(client.ipReputation().writeAll("feed", ipEntries(20, huge), { maxBatchBytes: 4_096, maxBatchEntries: 5 }));
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.entryIndex).toBe(7);
    expect(err.details).toMatch(/^entry 7 is \d+ bytes encoded, too large for a batch of its own \(maxBatchBytes 4096, of which the store and source names take 21\) \(not sent\); 5 entries in 1 batch were written before it \(resume at entry 5\)$/);
    expect(sentIps(f)).toEqual([0, 1, 2, 3, 4].map(ipOf));
  });

  it("an entry that cannot be encoded, and an input that throws", async () => {
    const { f, client } = await setup();
    const reputation = client.ipReputation();
    const bad = await writeAllError(
      reputation.writeAll("feed", ipEntries(30, (i) => (i === 12 ? { status: "evil" as never } : {})), { maxBatchEntries: 10 }),
    );
    expect(bad.codeName).toBe("INVALID_ARGUMENT");
    expect(bad.details).toBe('entry 12: data: invalid reputation status: "evil" (not sent); 10 entries in 1 batch were written before it (resume at entry 10)');

    const boom = new Error("disk on fire");
    async function* failing() {
      yield* ipEntries(15);
      throw boom;
    }
    const thrown = await writeAllError(reputation.writeAll("other", failing(), { maxBatchEntries: 10 }));
    expect(thrown.codeName).toBe("CANCELLED");
    expect(thrown.cause).toBe(boom);
    expect(thrown.entryIndex).toBe(15);
    expect(thrown.details).toBe("the entries threw at entry 15: disk on fire; 10 entries in 1 batch were written before it (resume at entry 10)");
    expect(f.entries("ip_reputation", "other").size).toBe(10);
  });

  it("an abort stops reading and cancels the batch in flight; its entries are not counted", async () => {
    const { f, client } = await setup();
    const controller = new AbortController();
    f.hook = (_call, index) => {
      if (index !== 1) return undefined;
      controller.abort(new Error("operator said stop"));
      return new Promise<void>(() => undefined);
    };
    const err = await writeAllError(client.ipReputation().writeAll("feed", ipEntries(10_000), { maxBatchEntries: 100, signal: controller.signal }));
    expect(err.codeName).toBe("CANCELLED");
    expect((err.cause as Error).message).toBe("operator said stop");
    expect([err.written, err.resumeAt]).toEqual([100, 100]);
    expect(f.calls).toHaveLength(2);

    const before = new AbortController();
    before.abort();
    const early = await writeAllError(client.ipReputation().writeAll("feed", ipEntries(10), { signal: before.signal }));
    expect([early.codeName, early.written]).toEqual(["CANCELLED", 0]);
    expect(f.calls).toHaveLength(2);
  });

  it("concurrency: at most N batches in flight, all written; a failure reports every acknowledged entry", async () => {
    const { f, client } = await setup();
    let inFlight = 0;
    let most = 0;
    f.hook = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };
    const result = await client.ipReputation().writeAll("feed", ipEntries(2_000), { maxBatchEntries: 100, concurrency: 3 });
    expect(result.written).toBe(2_000);
    expect(result.batches).toBe(20);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    expect(new Set(sentIps(f))).toEqual(new Set(Array.from({ length: 2_000 }, (_, i) => ipOf(i))));

    // The 5th batch fails while others are in flight: they finish, and are counted.
    const { f: g, client: other } = await setup();
    g.hook = async (call) => {
      const fifth = IPAddressKey.decode(call.entries[0]!.key!.value).ip === ipOf(400);
      await new Promise((r) => setTimeout(r, fifth ? 1 : 20));
      if (fifth) throw { code: Status.UNAVAILABLE, details: "store is unhealthy" };
    };
    const err = await writeAllError(other.ipReputation().writeAll("feed", ipEntries(2_000), { maxBatchEntries: 100, concurrency: 3 }));
    expect(err.failedBatch?.number).toBe(5);
    expect(err.resumeAt).toBe(400);
    expect(err.written).toBe(g.entries("ip_reputation", "feed").size);
    expect(err.written).toBeGreaterThanOrEqual(400);
    expect(err.written % 100).toBe(0);
  });

  it("an empty input sends nothing; bad options throw RangeError", async () => {
    const { f, client } = await setup();
    const store = client.ipReputation();
    expect(await store.writeAll("feed", [])).toEqual({ written: 0, stored: 0, batches: 0, bytes: 0 });
    expect(f.calls).toEqual([]);
    await expect(store.writeAll("feed", [], { maxBatchBytes: 0 })).rejects.toThrow(RangeError);
    await expect(store.writeAll("feed", [], { concurrency: 1.5 })).rejects.toThrow(RangeError);
    await expect(store.writeAll("feed", [], { maxBatchEntries: -1 })).rejects.toThrow(RangeError);
  });

  it("a deadline applies to each batch", async () => {
    const { f, client } = await setup();
    f.hook = (_call, index) => (index === 1 ? new Promise<void>(() => undefined) : undefined);
    const err = await writeAllError(client.ipReputation().writeAll("feed", ipEntries(300), { maxBatchEntries: 100, deadlineMs: 300 }));
    expect(err.codeName).toBe("DEADLINE_EXCEEDED");
    expect(err.failedBatch?.number).toBe(2);
    expect(err.written).toBe(100);
  });
});
