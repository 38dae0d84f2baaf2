import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DataStoreRegistry,
  MAX_SOURCE_LENGTH,
  ipAddressKeyType,
  ipReputationStore,
  ipReputationType,
  isWritableStore,
  normalizeIP,
  packAny,
  unpackAny,
  type ConflictPolicy,
  type IPReputation,
  type IPReputationStore,
  type StoreEntry,
} from "tracee-ds";
import { invalidArgumentMessage as invalid } from "../support/errors.js";

type Entry = StoreEntry<string, IPReputation>;

const rep = (over: Partial<IPReputation> = {}): IPReputation => ({ status: "deny", severity: 5, tags: [], metadata: {}, ...over });
const at = (iso: string) => new Date(iso);


/** Everything a store shows: per source, per address given, what it holds. */
function snapshot(store: IPReputationStore, ips: readonly string[]) {
  return {
    size: store.size,
    sources: store.listSources(),
    held: store.listSources().map((source) => ips.map((ip) => store.getFromSource(source, ip))),
    resolved: ips.map((ip) => store.get(ip)),
  };
}

describe("ipReputationStore: shape", () => {
  it("is a writable store named ip_reputation with Tracee's key and data types", () => {
    const store = ipReputationStore();
    expect(store.name).toBe("ip_reputation");
    expect(store.policy).toBe("last-write-wins");
    expect(store.keyType).toBe(ipAddressKeyType);
    expect(store.dataType).toBe(ipReputationType);
    expect(store.keyType.typeName).toBe("tracee.v1beta1.datastores.IPAddressKey");
    expect(store.dataType.typeName).toBe("tracee.v1beta1.datastores.IPReputation");
    expect(isWritableStore(store)).toBe(true);
    expect(new DataStoreRegistry([store]).getWritable("ip_reputation")).toBe(store);
    expect(ipReputationStore({ name: "blocklist" }).name).toBe("blocklist");
  });

  it("refuses bad options", () => {
    expect(() => ipReputationStore({ policy: "random" as ConflictPolicy })).toThrow(RangeError);
    expect(() => ipReputationStore({ priorities: { a: Number.NaN } })).toThrow(/priorities\["a"\] must be a finite number/);
    expect(() => ipReputationStore({ priorities: { a: "1" as unknown as number } })).toThrow(RangeError);
    expect(() => ipReputationStore({ name: "" })).toThrow(TypeError);
  });

  it("takes entries unpacked from Any, as the server hands them over", () => {
    const store = ipReputationStore();
    const key = unpackAny(packAny(ipAddressKeyType, "::FFFF:0A00:0001"), ipAddressKeyType, "key");
    const data = unpackAny(
      packAny(ipReputationType, rep({ status: "suspicious", severity: 7, tags: ["scan"], metadata: { feed: "x" }, lastUpdated: at("2024-05-01T00:00:00Z") })),
      ipReputationType,
      "data",
    );
    store.write("feed", { key, data });
    expect(store.get("10.0.0.1")).toEqual({
      status: "suspicious",
      severity: 7,
      tags: ["scan"],
      metadata: { feed: "x" },
      lastUpdated: at("2024-05-01T00:00:00Z"),
      source: "feed",
    });
  });
});

describe("ipReputationStore: validation", () => {
  const ip = "192.0.2.1";
  it.each<[string, unknown, RegExp]>([
    ["an empty source", "", /^source is empty/],
    ["a non-string source", 42, /^source must be a string, got number/],
    ["a source that is too long", "s".repeat(MAX_SOURCE_LENGTH + 1), /more than 256/],
  ])("refuses %s in every method", (_, source, message) => {
    const store = ipReputationStore();
    const s = source as string;
    expect(invalid(() => store.write(s, { key: ip, data: rep() }))).toMatch(message);
    expect(invalid(() => store.writeBatch(s, [{ key: ip, data: rep() }]))).toMatch(message);
    expect(invalid(() => store.delete(s, ip))).toMatch(message);
    expect(invalid(() => store.clear(s))).toMatch(message);
    expect(store.size).toBe(0);
  });

  it.each<[string, unknown, string]>([
    ["a missing entry", undefined, "an entry must be an object with a key and data, got undefined"],
    ["a null entry", null, "an entry must be an object with a key and data, got null"],
    ["a number entry", 7, "an entry must be an object with a key and data, got 7"],
    ["a missing key", { data: rep() }, "key: an IP address must be a string, got undefined"],
    ["a number key", { key: 3232235777, data: rep() }, "key: an IP address must be a string, got 3232235777"],
    ["an empty key", { key: "", data: rep() }, 'key: "" is not an IPv4 or IPv6 address'],
    ["a hostname", { key: "example.com", data: rep() }, 'key: "example.com" is not an IPv4 or IPv6 address'],
    ["an address with spaces", { key: " 1.2.3.4", data: rep() }, 'key: " 1.2.3.4" is not an IPv4 or IPv6 address'],
    ["an octal-looking address", { key: "01.2.3.4", data: rep() }, 'key: "01.2.3.4" is not an IPv4 or IPv6 address'],
    ["a zone index", { key: "fe80::1%eth0", data: rep() }, 'key: "fe80::1%eth0" has a zone index'],
    ["missing data", { key: ip }, "data: expected an IPReputation, got undefined"],
    ["null data", { key: ip, data: null }, "data: expected an IPReputation, got null"],
    ["string data", { key: ip, data: "deny" }, 'data: expected an IPReputation, got "deny"'],
    ["a missing status", { key: ip, data: { severity: 5 } }, 'data: status must be one of "unknown", "allow", "deny", "suspicious", got undefined'],
    ["an uppercase status", { key: ip, data: rep({ status: "DENY" as never }) }, 'got "DENY"'],
    ["a numeric status", { key: ip, data: rep({ status: 2 as never }) }, "status must be one of"],
    ["severity 0", { key: ip, data: rep({ severity: 0 }) }, "data: severity must be an integer from 1 to 10, got 0"],
    ["severity 11", { key: ip, data: rep({ severity: 11 }) }, "data: severity must be an integer from 1 to 10, got 11"],
    ["severity -1", { key: ip, data: rep({ severity: -1 }) }, "got -1"],
    ["severity 5.5", { key: ip, data: rep({ severity: 5.5 }) }, "got 5.5"],
    ["severity NaN", { key: ip, data: rep({ severity: Number.NaN }) }, "got NaN"],
    ["severity as a string", { key: ip, data: rep({ severity: "5" as never }) }, 'got "5"'],
    ["a missing severity", { key: ip, data: { status: "deny" } }, "got undefined"],
    ["tags as a string", { key: ip, data: rep({ tags: "c2" as never }) }, 'data: tags must be a list of strings, got "c2"'],
    ["a number tag", { key: ip, data: rep({ tags: ["c2", 1] as never }) }, "data: tags[1] must be a string, got 1"],
    ["a null tag", { key: ip, data: rep({ tags: [null] as never }) }, "data: tags[0] must be a string, got null"],
    ["metadata as a list", { key: ip, data: rep({ metadata: [] as never }) }, "data: metadata must be an object of strings, got a list"],
    ["metadata as a Map", { key: ip, data: rep({ metadata: new Map() as never }) }, "got an instance of Map"],
    ["a number metadata value", { key: ip, data: rep({ metadata: { asn: 64500 } as never }) }, 'data: metadata["asn"] must be a string, got 64500'],
    ["lastUpdated as a string", { key: ip, data: rep({ lastUpdated: "2024-01-01" as never }) }, 'data: lastUpdated must be a valid Date, got "2024-01-01"'],
    ["lastUpdated as a number", { key: ip, data: rep({ lastUpdated: 0 as never }) }, "lastUpdated must be a valid Date, got 0"],
    ["an invalid Date", { key: ip, data: rep({ lastUpdated: new Date(Number.NaN) }) }, "lastUpdated must be a valid Date, got an instance of Date"],
  ])("refuses %s", (_, entry, message) => {
    const store = ipReputationStore();
    store.write("keep", { key: "198.51.100.1", data: rep() });
    const before = snapshot(store, [ip, "198.51.100.1"]);
    const single = invalid(() => store.write("feed", entry as Entry));
    expect(single).toContain(message);
    expect(invalid(() => store.writeBatch("feed", [{ key: "203.0.113.9", data: rep() }, entry as Entry]))).toBe(`entry 1: ${single}`);
    expect(snapshot(store, [ip, "198.51.100.1", "203.0.113.9"])).toEqual({ ...before, held: [[undefined, before.held[0]?.[1], undefined]], resolved: [...before.resolved, undefined] });
    expect(store.listSources()).toEqual(["keep"]);
  });

  it("refuses a batch that is not a list", () => {
    const store = ipReputationStore();
    expect(invalid(() => store.writeBatch("feed", { key: "1.2.3.4", data: rep() } as never))).toBe("entries must be a list, got an object");
    expect(invalid(() => store.writeBatch("feed", null as never))).toBe("entries must be a list, got null");
  });

  it("refuses a bad address to delete, but a read of one is simply not found", () => {
    const store = ipReputationStore();
    expect(invalid(() => store.delete("feed", "1.2.3"))).toBe('key: "1.2.3" is not an IPv4 or IPv6 address');
    expect(store.get("1.2.3")).toBeUndefined();
    expect(store.get(undefined as never)).toBeUndefined();
    expect(store.isDenied("01.2.3.4")).toBe(false);
    expect(store.checkIPs(["nope", "1.2.3"]).size).toBe(0);
  });

  it("accepts every status, severities 1 and 10, and missing tags/metadata as empty", () => {
    const store = ipReputationStore();
    const statuses = ["unknown", "allow", "deny", "suspicious"] as const;
    statuses.forEach((status, i) => store.write("feed", { key: `10.0.0.${i}`, data: rep({ status, severity: i === 0 ? 1 : 10 }) }));
    expect(statuses.map((_, i) => store.get(`10.0.0.${i}`)?.status)).toEqual([...statuses]);
    store.write("feed", { key: "10.0.1.0", data: { status: "allow", severity: 2 } as IPReputation });
    expect(store.get("10.0.1.0")).toEqual({ status: "allow", severity: 2, tags: [], metadata: {}, source: "feed" });
  });

  it("keeps a __proto__ metadata key as a key", () => {
    const store = ipReputationStore();
    const metadata = JSON.parse('{"__proto__": "x", "asn": "64500"}') as Record<string, string>;
    store.write("feed", { key: "10.0.0.1", data: rep({ metadata }) });
    const stored = store.get("10.0.0.1")?.metadata;
    expect(Object.keys(stored ?? {})).toEqual(["__proto__", "asn"]);
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
  });
});

describe("ipReputationStore: addresses are normalised", () => {
  const forms = ["1.2.3.4", "::ffff:1.2.3.4", "::FFFF:1.2.3.4", "::ffff:0102:0304", "0:0:0:0:0:FFFF:102:304"];

  it("writes every form of one address to one key, and finds it by any form", () => {
    const store = ipReputationStore();
    forms.forEach((form, i) => store.write("feed", { key: form, data: rep({ severity: i + 1 }) }));
    expect(store.size).toBe(1);
    for (const form of forms) expect(store.get(form)?.severity).toBe(forms.length);
    expect(store.delete("feed", "::FFFF:0102:0304")).toBe(true);
    expect(store.size).toBe(0);
  });

  it("normalises IPv6 case and zero compression", () => {
    const store = ipReputationStore();
    store.write("feed", { key: "2001:DB8:0:0:0:0:0:1", data: rep() });
    expect(store.get("2001:db8::1")?.status).toBe("deny");
    expect(store.get("2001:0db8:0000::0001")?.status).toBe("deny");
    expect(store.get("2001:db8::2")).toBeUndefined();
    expect(store.writeBatch("feed", [{ key: "2001:db8::1", data: rep() }, { key: "2001:DB8::0:1", data: rep({ severity: 9 }) }])).toBe(1);
    expect(store.size).toBe(1);
    expect(store.get("2001:db8::1")?.severity).toBe(9);
  });

  it("keeps the IPv4 address and IPv4-compatible IPv6 (::1.2.3.4) apart", () => {
    const store = ipReputationStore();
    store.write("feed", { key: "1.2.3.4", data: rep() });
    expect(store.get("::1.2.3.4")).toBeUndefined();
    expect(normalizeIP("::1.2.3.4")).not.toBe(normalizeIP("1.2.3.4"));
  });
});

describe("ipReputationStore: batches", () => {
  it("stores nothing when any entry is bad, and names its index", () => {
    const store = ipReputationStore();
    store.writeBatch("feed", [{ key: "10.0.0.1", data: rep({ severity: 1 }) }]);
    const before = snapshot(store, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    const batch: Entry[] = [
      { key: "10.0.0.1", data: rep({ severity: 9 }) },
      { key: "10.0.0.2", data: rep() },
      { key: "10.0.0.3", data: rep() },
      { key: "10.0.0.4", data: rep({ severity: 11 }) },
    ];
    expect(invalid(() => store.writeBatch("feed", batch))).toBe("entry 3: data: severity must be an integer from 1 to 10, got 11");
    expect(invalid(() => store.writeBatch("other", batch))).toMatch(/^entry 3: /);
    expect(snapshot(store, ["10.0.0.1", "10.0.0.2", "10.0.0.3"])).toEqual(before);
  });

  it("keeps the later entry of a repeated address and counts distinct addresses", () => {
    const store = ipReputationStore();
    const n = store.writeBatch("feed", [
      { key: "10.0.0.1", data: rep({ severity: 1 }) },
      { key: "10.0.0.2", data: rep({ severity: 2 }) },
      { key: "::ffff:10.0.0.1", data: rep({ severity: 3 }) },
      { key: "10.0.0.2", data: rep({ severity: 4 }) },
      { key: "10.0.0.3", data: rep({ severity: 5 }) },
    ]);
    expect(n).toBe(3);
    expect(store.size).toBe(3);
    expect([store.get("10.0.0.1")?.severity, store.get("10.0.0.2")?.severity, store.get("10.0.0.3")?.severity]).toEqual([3, 4, 5]);
  });

  it("an empty batch stores nothing and lists no source", () => {
    const store = ipReputationStore();
    expect(store.writeBatch("feed", [])).toBe(0);
    expect(store.listSources()).toEqual([]);
  });

  it("is all or nothing for any batch (property)", () => {
    const ip = fc.constantFrom("10.0.0.1", "::ffff:10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:DB8::0:1", "::1");
    const goodEntry = fc.record({ key: ip, data: fc.integer({ min: 1, max: 10 }).map((severity) => rep({ severity })) });
    const badEntry = fc.oneof(
      fc.record({ key: fc.constantFrom("1.2.3", "01.2.3.4", "fe80::1%lo", ""), data: fc.constant(rep()) }),
      fc.record({ key: ip, data: fc.constantFrom(rep({ severity: 0 }), rep({ status: "bad" as never }), null) }),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(goodEntry, { maxLength: 8 }), fc.array(goodEntry, { maxLength: 8 }), fc.option(fc.tuple(badEntry, fc.nat())), (seed, batch, bad) => {
        const store = ipReputationStore();
        store.writeBatch("feed", seed);
        const ips = ["10.0.0.1", "10.0.0.2", "2001:db8::1", "::1"];
        const before = snapshot(store, ips);
        const entries = [...batch] as unknown[];
        if (bad !== null) entries.splice(bad[1] % (entries.length + 1), 0, bad[0]);
        if (bad !== null) {
          expect(invalid(() => store.writeBatch("feed", entries as Entry[]))).toMatch(/^entry \d+: /);
          expect(snapshot(store, ips)).toEqual(before);
        } else {
          const distinct = new Set(batch.map((e) => normalizeIP(e.key)));
          expect(store.writeBatch("feed", batch)).toBe(distinct.size);
          for (const key of distinct) {
            const last = batch.filter((e) => normalizeIP(e.key) === key).at(-1);
            expect(store.get(key)?.severity).toBe(last?.data.severity);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("ipReputationStore: sources", () => {
  it("lets a source delete and clear only its own entries, with real counts", () => {
    const store = ipReputationStore();
    store.write("alpha", { key: "10.0.0.1", data: rep({ status: "deny" }) });
    store.write("alpha", { key: "10.0.0.2", data: rep() });
    store.write("beta", { key: "10.0.0.3", data: rep({ status: "allow" }) });
    store.write("beta", { key: "10.0.0.1", data: rep({ status: "allow" }) });
    expect(store.size).toBe(4);
    expect(store.listSources()).toEqual(["alpha", "beta"]);

    expect(store.delete("beta", "10.0.0.2")).toBe(false);
    expect(store.get("10.0.0.2")?.source).toBe("alpha");
    expect(store.delete("gamma", "10.0.0.1")).toBe(false);

    expect(store.delete("beta", "10.0.0.1")).toBe(true);
    expect(store.delete("beta", "10.0.0.1")).toBe(false);
    expect(store.get("10.0.0.1")).toMatchObject({ source: "alpha", status: "deny" });
    expect(store.size).toBe(3);

    expect(store.clear("alpha")).toBe(2);
    expect(store.clear("alpha")).toBe(0);
    expect(store.get("10.0.0.1")).toBeUndefined();
    expect(store.get("10.0.0.3")).toMatchObject({ source: "beta", status: "allow" });
    expect(store.listSources()).toEqual(["beta"]);

    expect(store.delete("beta", "10.0.0.3")).toBe(true);
    expect(store.listSources()).toEqual([]);
    expect(store.size).toBe(0);
    expect(store.clear("nobody")).toBe(0);
  });

  it("lists sources sorted by code units, whatever the write order", () => {
    const store = ipReputationStore();
    for (const source of ["zeta", "Alpha", "éta", "alpha", "_x", "10"]) store.write(source, { key: "10.0.0.1", data: rep() });
    expect(store.listSources()).toEqual(["10", "Alpha", "_x", "alpha", "zeta", "éta"]);
    for (const source of store.listSources()) store.clear(source);
    expect(store.listSources()).toEqual([]);
  });

  it("takes source names that are Object property names", () => {
    const store = ipReputationStore({ policy: "priority-based", priorities: { constructor: 2 } });
    store.write("__proto__", { key: "10.0.0.1", data: rep({ status: "allow" }) });
    store.write("constructor", { key: "10.0.0.1", data: rep({ status: "deny" }) });
    expect(store.listSources()).toEqual(["__proto__", "constructor"]);
    expect(store.get("10.0.0.1")?.source).toBe("constructor");
    expect(store.clear("__proto__")).toBe(1);
    expect(store.listSources()).toEqual(["constructor"]);
  });

  it("keeps each source's verdict; getFromSource reads one", () => {
    const store = ipReputationStore({ policy: "max-severity" });
    store.write("a", { key: "10.0.0.1", data: rep({ severity: 2 }) });
    store.write("b", { key: "10.0.0.1", data: rep({ severity: 8 }) });
    expect(store.getFromSource("a", "::ffff:10.0.0.1")?.severity).toBe(2);
    expect(store.getFromSource("b", "10.0.0.1")?.severity).toBe(8);
    expect(store.getFromSource("c", "10.0.0.1")).toBeUndefined();
    expect(store.get("10.0.0.1")?.severity).toBe(8);
  });
});

describe("ipReputationStore: conflict policies and ties", () => {
  interface Case {
    policy: ConflictPolicy;
    priorities?: Record<string, number>;
    a: [string, IPReputation];
    b: [string, IPReputation];
    winner: string;
  }
  const t1 = at("2024-01-01T00:00:00Z");
  const t2 = at("2024-06-01T00:00:00Z");
  const cases: [string, Case][] = [
    // last-write-wins
    ["lww: the later lastUpdated wins over higher severity", { policy: "last-write-wins", a: ["a", rep({ lastUpdated: t2, severity: 1 })], b: ["b", rep({ lastUpdated: t1, severity: 10 })], winner: "a" }],
    ["lww: a missing lastUpdated is the epoch, older than any date after 1970", { policy: "last-write-wins", a: ["a", rep({ severity: 10 })], b: ["b", rep({ lastUpdated: at("1970-01-01T00:00:00.001Z"), severity: 1 })], winner: "b" }],
    ["lww: a missing lastUpdated beats a date before 1970", { policy: "last-write-wins", a: ["a", rep({ severity: 1 })], b: ["b", rep({ lastUpdated: at("1969-12-31T00:00:00Z"), severity: 10 })], winner: "a" }],
    ["lww tie (same time): the higher severity", { policy: "last-write-wins", a: ["a", rep({ lastUpdated: t1, severity: 3 })], b: ["b", rep({ lastUpdated: t1, severity: 4 })], winner: "b" }],
    ["lww tie (missing and epoch): the higher severity", { policy: "last-write-wins", a: ["a", rep({ severity: 3 })], b: ["b", rep({ lastUpdated: new Date(0), severity: 4 })], winner: "b" }],
    ["lww tie (time and severity): the source that sorts first", { policy: "last-write-wins", a: ["beta", rep({ lastUpdated: t1 })], b: ["alpha", rep({ lastUpdated: t1 })], winner: "alpha" }],
    ["lww tie: sources compare by code units (Z < a, z < é)", { policy: "last-write-wins", a: ["éta", rep()], b: ["zeta", rep()], winner: "zeta" }],
    ["lww tie: uppercase sorts first", { policy: "last-write-wins", a: ["alpha", rep()], b: ["Zulu", rep()], winner: "Zulu" }],
    // max-severity
    ["max-severity: the higher severity wins over a later date", { policy: "max-severity", a: ["a", rep({ severity: 9, lastUpdated: t1 })], b: ["b", rep({ severity: 2, lastUpdated: t2 })], winner: "a" }],
    ["max-severity tie: the later lastUpdated", { policy: "max-severity", a: ["a", rep({ severity: 6, lastUpdated: t1 })], b: ["b", rep({ severity: 6, lastUpdated: t2 })], winner: "b" }],
    ["max-severity tie (severity and time): the source that sorts first", { policy: "max-severity", a: ["b", rep({ severity: 6, status: "allow" })], b: ["a", rep({ severity: 6, status: "deny" })], winner: "a" }],
    // priority-based
    ["priority: the higher priority wins over severity and date", { policy: "priority-based", priorities: { low: 1, high: 5 }, a: ["low", rep({ severity: 10, lastUpdated: t2 })], b: ["high", rep({ severity: 1, lastUpdated: t1 })], winner: "high" }],
    ["priority: a source not listed has 0, above a negative one", { policy: "priority-based", priorities: { neg: -1 }, a: ["neg", rep({ severity: 10, lastUpdated: t2 })], b: ["unlisted", rep({ severity: 1 })], winner: "unlisted" }],
    ["priority: a source named like an Object method is not listed", { policy: "priority-based", priorities: { x: 1 }, a: ["toString", rep({ lastUpdated: t2 })], b: ["x", rep({ lastUpdated: t1 })], winner: "x" }],
    ["priority tie: the later lastUpdated", { policy: "priority-based", priorities: { a: 2, b: 2 }, a: ["a", rep({ lastUpdated: t2, severity: 1 })], b: ["b", rep({ lastUpdated: t1, severity: 9 })], winner: "a" }],
    ["priority tie (both unlisted, same time): the higher severity", { policy: "priority-based", a: ["a", rep({ lastUpdated: t1, severity: 2 })], b: ["b", rep({ lastUpdated: t1, severity: 3 })], winner: "b" }],
    ["priority tie (priority, time, severity): the source that sorts first", { policy: "priority-based", priorities: { a: 3, b: 3 }, a: ["b", rep()], b: ["a", rep()], winner: "a" }],
  ];

  it.each(cases)("%s, whatever the write order", (_, c) => {
    const options = c.priorities === undefined ? { policy: c.policy } : { policy: c.policy, priorities: c.priorities };
    for (const order of [[c.a, c.b], [c.b, c.a]]) {
      const store = ipReputationStore(options);
      for (const [source, data] of order) store.write(source, { key: "198.51.100.7", data });
      expect(store.get("198.51.100.7")?.source).toBe(c.winner);
      expect(store.getReputation("::ffff:198.51.100.7")?.source).toBe(c.winner);
    }
    // And when the loser is rewritten last.
    const store = ipReputationStore(options);
    for (const [source, data] of [c.a, c.b, c.a, c.b]) store.write(source, { key: "198.51.100.7", data });
    const loser = [c.a, c.b].find(([source]) => source !== c.winner) as [string, IPReputation];
    store.write(loser[0], { key: "198.51.100.7", data: loser[1] });
    expect(store.get("198.51.100.7")?.source).toBe(c.winner);
  });

  it("picks the same winner for any write order (property)", () => {
    const sourceName = fc.constantFrom("a", "b", "B", "é", "feed-1", "feed-2");
    const candidate = fc.record({
      source: sourceName,
      severity: fc.integer({ min: 1, max: 10 }),
      time: fc.option(fc.constantFrom(-1000, 0, 1000, 2000)),
    });
    const policy = fc.constantFrom<ConflictPolicy>("last-write-wins", "max-severity", "priority-based");
    const priorities = fc.dictionary(sourceName, fc.integer({ min: -2, max: 2 }), { noNullPrototype: true });
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { selector: (c) => c.source, minLength: 1, maxLength: 6 }), policy, priorities, fc.infiniteStream(fc.nat()), (cands, pol, prio, seeds) => {
        const data = (c: (typeof cands)[number]) => rep({ severity: c.severity, ...(c.time === null ? {} : { lastUpdated: new Date(c.time) }) });
        // The documented order, applied directly.
        const measure = (c: (typeof cands)[number]) =>
          pol === "last-write-wins" ? (c.time ?? 0) : pol === "max-severity" ? c.severity : (prio[c.source] ?? 0);
        const expected = [...cands].sort(
          (x, y) =>
            measure(y) - measure(x) || (y.time ?? 0) - (x.time ?? 0) || y.severity - x.severity || (x.source < y.source ? -1 : 1),
        )[0]?.source;
        const shuffled = [...cands].map((c) => [seeds.next().value as number, c] as const).sort((x, y) => x[0] - y[0]).map(([, c]) => c);
        for (const order of [cands, shuffled, [...cands].reverse()]) {
          const store = ipReputationStore({ policy: pol, priorities: prio });
          for (const c of order) store.write(c.source, { key: "2001:db8::7", data: data(c) });
          expect(store.get("2001:DB8::7")?.source).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("falls back to the next source when the winner deletes or clears", () => {
    const store = ipReputationStore({ policy: "max-severity" });
    store.write("a", { key: "10.0.0.1", data: rep({ severity: 9 }) });
    store.write("b", { key: "10.0.0.1", data: rep({ severity: 5, status: "allow" }) });
    expect(store.isDenied("10.0.0.1")).toBe(true);
    store.clear("a");
    expect(store.isDenied("10.0.0.1")).toBe(false);
    expect(store.isAllowed("10.0.0.1")).toBe(true);
  });
});

describe("ipReputationStore: reads", () => {
  it("isDenied / isAllowed follow the resolved status", () => {
    const store = ipReputationStore();
    store.write("f", { key: "10.0.0.1", data: rep({ status: "deny" }) });
    store.write("f", { key: "10.0.0.2", data: rep({ status: "allow" }) });
    store.write("f", { key: "10.0.0.3", data: rep({ status: "suspicious" }) });
    expect(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"].map((ip) => [store.isDenied(ip), store.isAllowed(ip)])).toEqual([
      [true, false],
      [false, true],
      [false, false],
      [false, false],
    ]);
  });

  it("checkIPs returns the rated ones, keyed by the text given", () => {
    const store = ipReputationStore();
    store.write("f", { key: "10.0.0.1", data: rep({ severity: 4 }) });
    store.write("f", { key: "2001:db8::1", data: rep({ severity: 6 }) });
    const found = store.checkIPs(["::FFFF:10.0.0.1", "10.0.0.9", "2001:DB8::1", "bogus", "10.0.0.1"]);
    expect([...found.keys()]).toEqual(["::FFFF:10.0.0.1", "2001:DB8::1", "10.0.0.1"]);
    expect(found.get("2001:DB8::1")?.severity).toBe(6);
    expect(store.checkIPs([]).size).toBe(0);
  });
});

describe("ipReputationStore: stored values are frozen copies", () => {
  it("is not changed by the caller's object, and hands out frozen values", () => {
    const store = ipReputationStore();
    const tags = ["c2"];
    const metadata: Record<string, string> = { feed: "x" };
    const lastUpdated = at("2024-01-01T00:00:00Z");
    const data = { status: "deny" as const, severity: 5, tags, metadata, lastUpdated };
    store.write("f", { key: "10.0.0.1", data });
    tags.push("botnet");
    metadata.feed = "y";
    data.severity = 1;
    lastUpdated.setUTCFullYear(2030);

    const got = store.get("10.0.0.1");
    expect(got).toEqual({ status: "deny", severity: 5, tags: ["c2"], metadata: { feed: "x" }, lastUpdated: at("2024-01-01T00:00:00Z"), source: "f" });
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got?.tags)).toBe(true);
    expect(Object.isFrozen(got?.metadata)).toBe(true);
    expect(() => {
      (got as { severity: number }).severity = 10;
    }).toThrow(TypeError);
  });

  it("compares the time a reputation was written with: the writer's Date can change, a reader's cannot", () => {
    const store = ipReputationStore();
    const written = at("2020-01-01T00:00:00Z");
    store.write("old", { key: "10.0.0.1", data: rep({ lastUpdated: written }) });
    store.write("new", { key: "10.0.0.1", data: rep({ lastUpdated: at("2024-01-01T00:00:00Z") }) });
    written.setUTCFullYear(2099);
    expect(() => store.getFromSource("old", "10.0.0.1")?.lastUpdated?.setUTCFullYear(2099)).toThrow(TypeError);
    expect(store.get("10.0.0.1")?.source).toBe("new");
  });
});
