/**
 * checkWritableStore: a store keeping the contract passes (the fake, sync or
 * async); each store breaking one rule — Tracee's defects among them — is
 * caught under that rule's kind, and the check leaves a good store as it
 * found it.
 */
import { checkSource, CONFLICT_POLICIES, type IPReputation, ipAddressKeyType, ipReputationStore, valueStore, ipReputationType, invalidArgument, type StoreEntry, type WritableStore } from "tracee-ds";
import {
  assertWritableStore,
  checkWritableStore,
  type FakeDataStore,
  fakeDataStore,
  type StoreViolationKind,
  WritableStoreContractError,
  type WritableStoreSamples,
} from "tracee-ds/testing";
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";

type KV = WritableStore<JsonValue, JsonValue>;

const samples: WritableStoreSamples<JsonValue, JsonValue> = {
  entries: [
    { key: "a", data: { n: 1 } },
    { key: "b", data: { n: 2 } },
    { key: "c", data: { n: 3 } },
  ],
  badEntry: { key: "bad", data: () => 1 },
  missingKey: "nope",
};

/** A store that forwards to a fake, with some members replaced. */
function broken(override: (inner: FakeDataStore) => Partial<KV>): KV {
  const inner = fakeDataStore({ name: "kv" });
  const store: KV = {
    name: inner.name,
    keyType: inner.keyType,
    dataType: inner.dataType,
    get size() {
      return inner.size;
    },
    get: (key) => inner.get(key),
    write: (source, entry) => inner.write(source, entry),
    writeBatch: (source, entries) => inner.writeBatch(source, entries),
    delete: (source, key) => inner.delete(source, key),
    clear: (source) => inner.clear(source),
    listSources: () => inner.listSources(),
  };
  const replaced = override(inner);
  return Object.defineProperties(store, Object.getOwnPropertyDescriptors(replaced));
}

const kinds = async (store: KV) => [...new Set((await checkWritableStore(store, samples)).map((v) => v.kind))].sort();

describe("checkWritableStore", () => {
  it("passes the fake, and leaves it as it found it", async () => {
    const store = fakeDataStore({ name: "kv", entries: { other: [{ key: "z", data: 26 }] } });
    expect(await checkWritableStore(store, samples)).toEqual([]);
    expect([...store.snapshot()]).toEqual([["other", [{ key: "z", data: 26 }]]]);
  });

  it("passes an async store", async () => {
    const store = broken((inner) => ({
      write: async (s, e) => inner.write(s, e),
      writeBatch: async (s, e) => inner.writeBatch(s, e),
      delete: async (s, k) => inner.delete(s, k),
      clear: async (s) => inner.clear(s),
      listSources: async () => inner.listSources(),
    }));
    expect(await checkWritableStore(store, samples)).toEqual([]);
  });

  it("passes a fake of the ip_reputation store, whose bad entry has an unknown status", async () => {
    const rep = (status: IPReputation["status"], severity: number): IPReputation => ({ status, severity, tags: ["t"], metadata: { k: "v" }, lastUpdated: new Date(1_700_000_000_000) });
    const store = fakeDataStore({ name: "ip_reputation", keyType: ipAddressKeyType, dataType: ipReputationType });
    expect(
      await checkWritableStore(store, {
        entries: [
          { key: "203.0.113.7", data: rep("deny", 9) },
          { key: "2001:db8::1", data: rep("suspicious", 4) },
        ],
        badEntry: { key: "198.51.100.1", data: { ...rep("deny", 1), status: "blocked" } },
        missingKey: "192.0.2.1",
        sources: ["threat-feed", "allow-list"],
      }),
    ).toEqual([]);
  });

  it("passes the stores the SDK ships: valueStore, and ipReputationStore under every conflict policy", async () => {
    expect(await checkWritableStore(valueStore(), { ...samples, badEntry: { key: [1], data: 1 } })).toEqual([]);
    const rep = (status: IPReputation["status"], severity: number): IPReputation => ({ status, severity, tags: [], metadata: {}, lastUpdated: new Date(1_700_000_000_000) });
    for (const policy of CONFLICT_POLICIES) {
      const store = ipReputationStore({ policy, priorities: { "contract-a": 1 } });
      const violations = await checkWritableStore(store, {
        entries: [
          { key: "203.0.113.7", data: rep("deny", 9) },
          { key: "2001:db8::1", data: rep("suspicious", 4) },
          { key: "198.51.100.1", data: rep("allow", 1) },
        ],
        badEntry: { key: "192.0.2.9", data: rep("deny", 11) }, // severity is 1-10
        missingKey: "192.0.2.1",
      });
      expect([policy, violations]).toEqual([policy, []]);
    }
  });

  it.each<[string, (inner: FakeDataStore) => Partial<KV>, StoreViolationKind[]]>([
    [
      "a batch stored up to its bad entry (Tracee's generic store)",
      (inner) => ({
        writeBatch: (source, entries) => {
          let n = 0;
          for (const e of entries) {
            inner.write(source, e);
            n++;
          }
          return n;
        },
      }),
      ["batch-atomic"],
    ],
    [
      "any source deleting any key (Tracee's generic store)",
      (inner) => ({
        delete: (source, key) => {
          checkSource(source);
          let had = false;
          for (const s of inner.listSources()) had = inner.delete(s, key) || had;
          return had;
        },
      }),
      ["isolation"],
    ],
    ["clear answering 0 whatever it removed (Tracee's deleted_count)", (inner) => ({ clear: (s) => (inner.clear(s), 0) }), ["clear"]],
    ["listSources in insertion order", (inner) => ({ listSources: () => [...inner.snapshot().keys()].reverse() }), ["list-sources"]],
    ["an empty source accepted", (inner) => ({ write: (s, e) => inner.write(s === "" ? "anonymous" : s, e) }), ["source"]],
    [
      "validation errors as plain errors (Tracee answers INTERNAL)",
      (inner) => ({
        write: (s, e) => {
          try {
            inner.write(s, e);
          } catch (err) {
            throw new Error((err as Error).message);
          }
        },
      }),
      ["source", "write-bad"],
    ],
    ["a bad entry stored anyway", (inner) => ({ write: (s, e) => inner.write(s, typeof e.data === "function" ? { key: e.key, data: null } : e) }), ["write-bad"]],
    ["get returning a Promise", (inner) => ({ get: ((k: JsonValue) => Promise.resolve(inner.get(k))) as unknown as KV["get"] }), ["get"]],
    ["get answering null for a missing key", (inner) => ({ get: (k) => inner.get(k) ?? (null as never) }), ["get-missing"]],
    ["a second delete throwing", (inner) => ({ delete: (s, k) => { if (!inner.delete(s, k)) throw invalidArgument("no such key"); return true; } }), ["delete"]],
    ["a second write kept the first", (inner) => ({ write: (s, e) => { if (inner.get(e.key) === undefined) inner.write(s, e); } }), ["replace"]],
    ["size counting keys, not each source's entries", (inner) => ({ get size() { return new Set([...inner.snapshot().values()].flat().map((e) => JSON.stringify(e.key))).size; } }), ["size"]],
    ["writeBatch counting what was sent", (inner) => ({ writeBatch: (s, e) => (inner.writeBatch(s, e), e.length + 1) }), ["batch"]],
  ])("catches %s", async (_, override, expected) => {
    expect(await kinds(broken(override))).toEqual(expected);
  });

  it("names the call in each message", async () => {
    const violations = await checkWritableStore(broken((inner) => ({ clear: (s) => (inner.clear(s), 0) })), samples);
    expect(violations.map((v) => v.message)).toEqual([
      `clear("contract-b") returned 0, expected 1`,
      `clear("contract-a") returned 0, expected 1`,
    ]);
  });

  it("reports a bad identity and stops there", async () => {
    const store = broken(() => ({ name: "", keyType: undefined as never }));
    expect(await checkWritableStore(store, samples)).toEqual([
      { kind: "identity", message: `name must be a non-empty string, got ""` },
      { kind: "identity", message: "keyType must be a message type (typeName, encode, decode)" },
    ]);
  });

  it("refuses to run with fewer than two samples, or on a store already holding a sample key", async () => {
    await expect(checkWritableStore(fakeDataStore({ name: "kv" }), { ...samples, entries: [{ key: "a", data: 1 }] })).rejects.toThrow(/at least two/);
    const full = fakeDataStore({ name: "kv", entries: { s: [{ key: "b", data: 1 }] } });
    await expect(checkWritableStore(full, samples)).rejects.toThrow(/holding nothing under the sample keys; it holds "b"/);
  });

  it("assertWritableStore rejects with every violation listed", async () => {
    await expect(assertWritableStore(fakeDataStore({ name: "kv" }), samples)).resolves.toBeUndefined();
    const err = await assertWritableStore(broken((inner) => ({ clear: (s) => (inner.clear(s), 0) })), samples).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WritableStoreContractError);
    expect((err as WritableStoreContractError).violations).toHaveLength(2);
    expect((err as Error).message).toContain(`[clear] clear("contract-b") returned 0, expected 1`);
  });

  it("typed samples: entries must match the store's types", () => {
    const entry: StoreEntry<string, IPReputation> = { key: "1.1.1.1", data: { status: "allow", severity: 1, tags: [], metadata: {} } };
    const typed: WritableStoreSamples<string, IPReputation> = { entries: [entry, entry], badEntry: { key: 1, data: null } };
    // @ts-expect-error a number is not an IP key
    const wrong: WritableStoreSamples<string, IPReputation> = { entries: [{ key: 1, data: entry.data }], badEntry: entry };
    expect([typed, wrong]).toHaveLength(2);
  });
});
