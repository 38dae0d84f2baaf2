/**
 * Edges a review found: sparse batches, dates inside stored data, keyId
 * results that are not strings, encoding a reputation without tags, the
 * fake store's frozen data, an empty AnyRegistry.
 */
import { describe, expect, it } from "vitest";
import {
  AnyRegistry,
  defineWritableStore,
  ipReputationStore,
  ipReputationType,
  knownMessageTypes,
  packAny,
  stringValueType,
  valueStore,
  type IPReputation,
  type MessageType,
  type StoreEntry,
} from "tracee-ds";
import { t } from "tracee-ds/codec";
import { fakeDataStore } from "tracee-ds/testing";
import { invalidArgumentMessage as invalid } from "../support/errors.js";

const rep = (over: Partial<IPReputation> = {}): IPReputation => ({ status: "deny", severity: 5, tags: [], metadata: {}, ...over });


describe("a batch with a hole in its array", () => {
  const sparse = <E>(first: E, third: E): E[] => {
    const batch: E[] = [first];
    batch[2] = third;
    return batch;
  };

  it("is refused whole by each shipped store, naming the hole's index", () => {
    const ips = ipReputationStore();
    expect(invalid(() => ips.writeBatch("feed", sparse({ key: "5.5.5.5", data: rep() }, { key: "6.6.6.6", data: rep() })))).toMatch(/^entry 1: /);
    expect([ips.size, ips.listSources()]).toEqual([0, []]);

    const values = valueStore();
    expect(invalid(() => values.writeBatch("feed", sparse({ key: "a", data: 1 }, { key: "b", data: 2 })))).toMatch(/^entry 1: /);
    expect(values.size).toBe(0);

    const defined = defineWritableStore({ name: "d", key: t.string(), data: t.int() });
    expect(invalid(() => defined.writeBatch("feed", sparse({ key: "a", data: 1 }, { key: "b", data: 2 })))).toMatch(/^entry 1: /);
    expect(defined.size).toBe(0);
  });
});

describe("dates inside stored data", () => {
  it("a reader cannot change a stored reputation's lastUpdated for the next reader", () => {
    const store = ipReputationStore();
    const when = new Date("2026-01-01T00:00:00Z");
    store.write("feed", { key: "1.2.3.4", data: rep({ lastUpdated: when }) });
    const first = store.get("1.2.3.4")?.lastUpdated;
    expect(first).toBeInstanceOf(Date);
    expect(() => first?.setTime(0)).toThrow(TypeError);
    expect(() => first?.setUTCFullYear(1999)).toThrow(/read-only/);
    expect(store.get("1.2.3.4")?.lastUpdated?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    when.setTime(0); // nor can the writer, through the Date it passed
    expect(store.getFromSource("feed", "1.2.3.4")?.lastUpdated?.getTime()).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });

  it("a message-typed store holds its data's dates read-only too", () => {
    const store = defineWritableStore({ name: "reps", key: stringValueType, data: ipReputationType });
    store.write("feed", { key: "k", data: rep({ lastUpdated: new Date(1_000) }) });
    const held = store.get("k") as IPReputation;
    expect(Object.isFrozen(held)).toBe(true);
    expect(() => held.lastUpdated?.setTime(5)).toThrow(TypeError);
    expect(held.lastUpdated?.getTime()).toBe(1_000);
  });
});

describe("defineWritableStore's keyId", () => {
  it("returning a non-string: reads find nothing, writes and deletes are INVALID_ARGUMENT", () => {
    const store = defineWritableStore({
      name: "odd",
      key: t.string(),
      data: t.int(),
      keyId: (key) => (key === "bad" ? (42 as unknown as string) : key),
    });
    expect(store.get("bad")).toBeUndefined();
    expect(invalid(() => store.write("feed", { key: "bad", data: 1 }))).toContain("keyId must return a string, got 42");
    expect(invalid(() => store.delete("feed", "bad"))).toContain("keyId must return a string");
    store.write("feed", { key: "good", data: 1 });
    expect(store.get("good")).toBe(1);
  });
});

describe("ipReputationType", () => {
  it("encodes a reputation written without tags or metadata, as the store accepts it", () => {
    const bare = { status: "allow", severity: 1 } as unknown as IPReputation; // plain JavaScript callers
    const any = packAny(ipReputationType, bare);
    expect(ipReputationType.decode(any.value)).toEqual({ status: "allow", severity: 1, tags: [], metadata: {}, lastUpdated: undefined });
  });
});

describe("fakeDataStore", () => {
  it("hands out frozen data, as the real stores do", () => {
    const fake = fakeDataStore({ name: "ip_reputation", keyType: stringValueType, dataType: ipReputationType as MessageType<IPReputation> });
    const entry: StoreEntry<string, IPReputation> = { key: "k", data: rep({ tags: ["c2"] }) };
    fake.write("feed", entry);
    const held = fake.get("k") as IPReputation;
    expect(Object.isFrozen(held) && Object.isFrozen(held.tags)).toBe(true);
    expect(() => (held.tags as string[]).push("x")).toThrow(TypeError);
    expect(fake.get("k")?.tags).toEqual(["c2"]);
  });
});

describe("AnyRegistry", () => {
  it("starts with the types given; knownMessageTypes() holds the shipped ones", () => {
    expect(new AnyRegistry().names()).toEqual([]);
    expect(knownMessageTypes().names()).toEqual([
      "google.protobuf.StringValue",
      "google.protobuf.Value",
      "tracee.v1beta1.datastores.IPAddressKey",
      "tracee.v1beta1.datastores.IPReputation",
    ]);
  });
});
