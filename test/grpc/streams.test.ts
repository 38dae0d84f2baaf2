/**
 * Streams under load and concurrency: Tracee's own e2e scenario, 32
 * concurrent streams, writes serialized per data source, deadlines while a
 * write waits its turn.
 */
import { randomBytes } from "node:crypto";
import type { JsonValue } from "type-fest";
import { DataSourceRegistry, type WriteData, type WriteKey } from "tracee-ds";
import { isDataSourceClientError, type WriteRequest } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import { clientFor, deferred, fixture, RecordingDataSource, serve, ticks, TRANSPORTS } from "./helpers.js";

const entry = (key: WriteKey, value: JsonValue): WriteRequest => ({ namespace: "test", id: "recorder", key, value });

describe.each(TRANSPORTS)("streams over %s", (transport) => {
  it("Tracee's e2e scenario: 4 concurrent writers stream 1,000 random pairs, then write bruh=moment", async () => {
    // Tracee's e2e data source: string keys to string values.
    const ds = new RecordingDataSource("e2e", "e2e_writable", async () => {
      await ticks(1);
    });
    const registry = new DataSourceRegistry().register(ds);
    const server = await serve(registry, transport);
    const random = () => randomBytes(8).toString("hex");
    const written = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = clientFor(server);
        const pairs = Array.from({ length: 1000 }, () => [random(), random()] as const);
        for (const [k, v] of pairs) written.set(k, v);
        await client.writeStream(pairs.map(([key, value]) => ({ namespace: "e2e", id: "e2e_writable", key, value })));
        await client.write({ namespace: "e2e", id: "e2e_writable", key: "bruh", value: "moment" });
      }),
    );
    expect(ds.get("bruh")).toEqual({ value: "moment" });
    for (const [k, v] of written) expect(ds.store.get(k)).toBe(v);
    // Four streams and four unary writes, each stream in one write call.
    expect(ds.writes.map((w) => w.size).sort((a, b) => b - a)).toEqual([1000, 1000, 1000, 1000, 1, 1, 1, 1]);
  });

  it("32 concurrent streams each land whole, in 32 non-overlapping writes", async () => {
    let active = 0;
    let overlapped = false;
    const { ds, registry } = fixture(async () => {
      active++;
      if (active > 1) overlapped = true;
      await ticks(2);
      active--;
    });
    const server = await serve(registry, transport);
    const client = clientFor(server);
    await Promise.all(
      Array.from({ length: 32 }, (_, s) =>
        client.writeStream(Array.from({ length: 200 }, (_, i) => entry(`s${s}-k${i}`, i))),
      ),
    );
    expect(overlapped).toBe(false);
    expect(ds.writes).toHaveLength(32);
    for (const w of ds.writes) {
      expect(w.size).toBe(200);
      const streams = new Set([...w.keys()].map((k) => String(k).split("-")[0]));
      expect(streams.size).toBe(1); // no stream's entries leak into another's write
    }
  });

  it("serializes async writes to one data source: each finishes before the next starts", async () => {
    const events: string[] = [];
    const { registry } = fixture(async (data: WriteData) => {
      const label = String([...data.keys()][0]);
      events.push(`start ${label}`);
      await ticks(3);
      await new Promise((r) => setTimeout(r, 1));
      events.push(`end ${label}`);
    });
    const client = clientFor(await serve(registry, transport));
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      calls.push(client.write(entry(`u${i}`, i)));
      calls.push(client.writeStream([entry(`s${i}`, i), entry(`s${i}b`, i)]));
    }
    await Promise.all(calls);
    expect(events).toHaveLength(32);
    for (let i = 0; i < events.length; i += 2) {
      const label = events[i]?.slice("start ".length);
      expect(events[i]).toBe(`start ${label}`);
      expect(events[i + 1]).toBe(`end ${label}`);
    }
  });

  it("a stream whose deadline passes while it waits for an earlier write writes nothing", async () => {
    const gate = deferred();
    const started = deferred();
    const { ds, registry } = fixture(async (data) => {
      if (data.has("first")) {
        started.resolve();
        await gate.promise;
      }
    });
    const cancelled = deferred();
    const logger = {
      debug: (msg: string) => void (msg.startsWith("stream cancelled") && cancelled.resolve()),
      info() {},
      warn() {},
      error() {},
    };
    const server = await serve(registry, transport, { logger });
    const client = clientFor(server);
    const first = client.write(entry("first", 1));
    await started.promise; // the data source is now busy with "first"
    const late = await client.writeStream([entry("late", 2), entry("later", 3)], { deadlineMs: 200 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDataSourceClientError(late) && late.codeName).toBe("DEADLINE_EXCEEDED");
    await cancelled.promise; // the server has seen the stream go
    gate.resolve();
    await first;
    await server.close({ graceMs: 5000 });
    expect(ds.writes).toEqual([new Map([["first", 1]])]);
  });

  it("streams 20,000 entries from an async generator in one write", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    async function* entries() {
      for (let i = 0; i < 20_000; i++) {
        if (i % 1000 === 0) await ticks(1);
        yield [`key-${i}`, { n: i, tags: ["a", "b"] }] as const;
      }
    }
    await client.dataSource("test", "recorder").writeStream(entries());
    expect(ds.writes).toHaveLength(1);
    expect(ds.writes[0]?.size).toBe(20_000);
    expect(ds.store.get("key-19999")).toEqual({ n: 19_999, tags: ["a", "b"] });
  });
});
