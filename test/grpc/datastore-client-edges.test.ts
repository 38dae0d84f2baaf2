/**
 * DataStoreClient edges a review found: waitForReady, raw calls with a
 * malformed Any, an empty batch, writeAll's deadlineMs checked up front, and
 * no listener warning at high concurrency.
 */
import { createServer } from "node:net";
import { DataStoreRegistry, type IPReputation, ipReputationStore, packAny, valueType } from "tracee-ds";
import { DataStoreClient, isDataSourceClientError, serveDataStores } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { type DataStoreFixture, startDataStoreServer } from "./fixtures/datastore-server.js";

const fixtures: DataStoreFixture[] = [];
const clients: DataStoreClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function setup() {
  const f = await startDataStoreServer({ transport: "tcp" });
  fixtures.push(f);
  const client = new DataStoreClient(f.address);
  clients.push(client);
  return { f, client };
}

const rep = (i: number): IPReputation => ({ status: "deny", severity: (i % 10) + 1, tags: ["t"], metadata: {} });

/** A free TCP port on 127.0.0.1 (bound, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("DataStoreClient edges", () => {
  it("waitForReady waits for a server that starts later, then calls go through", async () => {
    const port = await freePort();
    const client = new DataStoreClient(`127.0.0.1:${port}`, { connectTimeoutMs: 2000 });
    clients.push(client);
    const ready = client.waitForReady(20_000);
    const store = ipReputationStore();
    const server = await serveDataStores(new DataStoreRegistry().register(store), { address: `127.0.0.1:${port}` });
    try {
      await ready;
      await client.ipReputation().write("feed", { key: "1.2.3.4", data: rep(1) });
      expect(store.isDenied("1.2.3.4")).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("waitForReady rejects UNAVAILABLE when nothing comes up in time", async () => {
    const client = new DataStoreClient(`127.0.0.1:${await freePort()}`);
    clients.push(client);
    const err = await client.waitForReady(300).catch((e: unknown) => e);
    expect(isDataSourceClientError(err) && err.codeName).toBe("UNAVAILABLE");
  });

  it("raw calls with a malformed Any reject INVALID_ARGUMENT before sending", async () => {
    const { f, client } = await setup();
    const bad = { typeUrl: undefined as unknown as string, value: new Uint8Array() };
    for (const call of [
      () => client.writeData({ store: "values", source: "s", key: bad, data: packAny(valueType, 1) }),
      () => client.deleteData({ store: "values", source: "s", key: bad }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(isDataSourceClientError(err) && err.codeName).toBe("INVALID_ARGUMENT");
      expect((err as Error).message).toContain("(not sent)");
    }
    expect(f.calls).toEqual([]);
  });

  it("an empty batch sends nothing and writes 0", async () => {
    const { f, client } = await setup();
    expect(await client.ipReputation().writeBatch("feed", [])).toBe(0);
    expect(await client.writeBatchData({ store: "values", source: "s", entries: [] })).toBe(0);
    expect(f.calls).toEqual([]);
  });

  it("writeAll checks deadlineMs before reading anything", async () => {
    const { f, client } = await setup();
    let read = 0;
    function* entries() {
      read++;
      yield { key: "1.2.3.4", data: rep(1) };
    }
    await expect(client.ipReputation().writeAll("feed", entries(), { deadlineMs: 0 })).rejects.toThrow(RangeError);
    expect(read).toBe(0);
    expect(f.calls).toEqual([]);
  });

  it("writeAll at concurrency 16 raises no listener warning", async () => {
    const { client } = await setup();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      function* entries() {
        for (let i = 0; i < 400; i++) yield { key: `10.0.${i >> 8}.${i & 255}`, data: rep(i) };
      }
      const result = await client.ipReputation().writeAll("feed", entries(), { maxBatchEntries: 10, concurrency: 16 });
      expect(result.written).toBe(400);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
  });
});
