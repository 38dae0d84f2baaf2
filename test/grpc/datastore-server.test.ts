/**
 * The DataStoreService server's semantics: every RPC through the generated
 * ts-proto client, and the status table (input → code → message) with
 * hand-made bytes where a client would refuse to send them.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import {
  DataStoreError,
  DataStoreRegistry,
  ErrNotImplemented,
  ErrStoreUnhealthy,
  invalidArgument,
  type IPReputation,
  ipAddressKeyType,
  ipReputationType,
  packAny,
  valueType,
} from "tracee-ds";
import { dataStoreService, Status } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import { concat, ld, tempDir, trackServer, TRANSPORTS } from "./helpers.js";
import { recordingLogger } from "./logging.js";
import { MemoryStore, RawStoresClient, serveStores, storeFixture, StoresClient } from "./fixtures/datastore-store.js";
import { join } from "node:path";

const rep = (severity: number, extra: Partial<IPReputation> = {}): IPReputation => ({
  status: "deny",
  severity,
  tags: ["botnet"],
  metadata: {},
  ...extra,
});
const ipKey = (ip: string) => packAny(ipAddressKeyType, ip);
const ipData = (r: IPReputation) => packAny(ipReputationType, r);
const ipEntry = (ip: string, severity = 5) => ({ key: ipKey(ip), data: ipData(rep(severity)) });

/** A ts-proto-free DataEntry: hand-made Any bytes. */
function anyBytes(typeUrl: string, value: Uint8Array): Uint8Array {
  return concat(ld(1, typeUrl), ld(2, value));
}
function entryBytes(key?: Uint8Array, data?: Uint8Array): Uint8Array {
  return concat(...(key === undefined ? [] : [ld(1, key)]), ...(data === undefined ? [] : [ld(2, data)]));
}
const IP_KEY_URL = "type.googleapis.com/tracee.v1beta1.datastores.IPAddressKey";
const IP_REP_URL = "type.googleapis.com/tracee.v1beta1.datastores.IPReputation";
const validKeyAny = () => anyBytes(IP_KEY_URL, ipAddressKeyType.encode("10.0.0.1"));
const validDataAny = () => anyBytes(IP_REP_URL, ipReputationType.encode(rep(3)));

describe.each(TRANSPORTS)("every RPC over %s", (transport) => {
  it("writes, batches, deletes, clears and lists, with the store's real counts", async () => {
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, transport);
    const client = new StoresClient(server.address);

    expect((await client.writeData("ip_reputation", "feed-b", ipEntry("192.0.2.1", 7)).outcome).code).toBe(Status.OK);
    expect(ip.held("feed-b", "192.0.2.1")?.severity).toBe(7);

    // A key given twice counts once: written_count is what the store says, not what was sent.
    const batch = await client.writeBatchData("ip_reputation", "feed-a", [
      ipEntry("192.0.2.1", 1),
      ipEntry("192.0.2.2", 2),
      ipEntry("192.0.2.2", 3),
    ]).outcome;
    expect(batch).toMatchObject({ code: Status.OK, response: { writtenCount: 2 } });
    expect(ip.held("feed-a", "192.0.2.2")?.severity).toBe(3);

    const listed = await client.listSources("ip_reputation").outcome;
    expect(listed.response?.sources).toEqual(["feed-a", "feed-b"]);

    expect((await client.deleteData("ip_reputation", "feed-a", ipKey("192.0.2.1")).outcome).code).toBe(Status.OK);
    expect(ip.held("feed-a", "192.0.2.1")).toBeUndefined();
    expect(ip.held("feed-b", "192.0.2.1")?.severity).toBe(7); // another source's entry stays
    // Deleting a key that is not there is fine (idempotent).
    expect((await client.deleteData("ip_reputation", "feed-a", ipKey("192.0.2.1")).outcome).code).toBe(Status.OK);

    const cleared = await client.clearSource("ip_reputation", "feed-a").outcome;
    expect(cleared).toMatchObject({ code: Status.OK, response: { deletedCount: 1 } });
    const again = await client.clearSource("ip_reputation", "feed-a").outcome;
    expect(again).toMatchObject({ code: Status.OK, response: { deletedCount: 0 } });
    expect((await client.listSources("ip_reputation").outcome).response?.sources).toEqual(["feed-b"]);

    expect(server.stats()).toMatchObject({
      pendingOperations: 0,
      entriesWritten: 3,
      entriesDeleted: 2, // one DeleteData that found its key, one ClearSource of 1
      answers: { WriteData: { OK: 1 }, WriteBatchData: { OK: 1 }, DeleteData: { OK: 2 }, ClearSource: { OK: 2 } },
    });
  });
});

describe("JSON values (google.protobuf.Value)", () => {
  it("keeps keys and data as JSON values, and a type URL with any prefix names the type", async () => {
    const { values, registry } = storeFixture();
    const server = await serveStores(registry);
    const client = new StoresClient(server.address);
    const data = { threshold: 10, tags: ["a", null, true], nested: { x: [1.5] } };
    const outcome = await client.writeData("values", "me", {
      key: packAny(valueType, "limits"),
      data: { typeUrl: "example.com/custom/google.protobuf.Value", value: valueType.encode(data) },
    }).outcome;
    expect(outcome.code).toBe(Status.OK);
    expect(values.held("me", "limits")).toEqual(data);
  });

  it("refuses a Value nested deeper than maxDepth", async () => {
    const { values, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", { maxDepth: 3 });
    const client = new StoresClient(server.address);
    const ok = await client.writeData("values", "me", { key: packAny(valueType, "k"), data: packAny(valueType, [[[1]]]) })
      .outcome;
    expect(ok.code).toBe(Status.OK);
    const deep = await client.writeData("values", "me", {
      key: packAny(valueType, "k2"),
      data: packAny(valueType, [[[[1]]]]),
    }).outcome;
    expect(deep.code).toBe(Status.INVALID_ARGUMENT);
    expect(deep.details).toMatch(/^data is not a valid google\.protobuf\.Value: .*deep/);
    expect(values.held("me", "k2")).toBeUndefined();
  });
});

describe("the status table", () => {
  async function setup(options: Parameters<typeof serveStores>[2] = {}) {
    const fx = storeFixture();
    const server = await serveStores(fx.registry, "tcp", options);
    return { ...fx, server, client: new StoresClient(server.address), raw: new RawStoresClient(server.address) };
  }

  it("empty store_name, empty or overlong source, missing entry: INVALID_ARGUMENT", async () => {
    const { client, ip } = await setup();
    expect(await client.writeData("", "s", ipEntry("192.0.2.1")).outcome).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: "store_name is empty",
    });
    expect(await client.listSources("").outcome).toMatchObject({ code: Status.INVALID_ARGUMENT, details: "store_name is empty" });
    expect(await client.writeData("ip_reputation", "", ipEntry("192.0.2.1")).outcome).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^source is empty/),
    });
    expect(await client.clearSource("ip_reputation", "").outcome).toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(await client.writeData("ip_reputation", "x".repeat(257), ipEntry("192.0.2.1")).outcome).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: "source is 257 characters long, more than 256",
    });
    expect(await client.writeData("ip_reputation", "s", undefined).outcome).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: "entry is missing",
    });
    expect(ip.events).toEqual([]);
  });

  it("a missing key or data, a wrong type URL, bytes that are not the type: INVALID_ARGUMENT naming it", async () => {
    const { client, ip } = await setup();
    const cases: [Parameters<StoresClient["writeData"]>[2], RegExp][] = [
      [{ data: ipData(rep(1)) }, /^key is missing$/],
      [{ key: ipKey("192.0.2.1") }, /^data is missing$/],
      [{}, /^key is missing$/],
      [
        { key: packAny(valueType, "192.0.2.1"), data: ipData(rep(1)) },
        /^key must be a tracee\.v1beta1\.datastores\.IPAddressKey, got type URL "type\.googleapis\.com\/google\.protobuf\.Value"$/,
      ],
      [{ key: { typeUrl: "", value: new Uint8Array() }, data: ipData(rep(1)) }, /got an empty type URL$/],
      [
        { key: ipKey("192.0.2.1"), data: { typeUrl: IP_REP_URL, value: Uint8Array.of(0x0a, 0x05, 0x01) } },
        /^data is not a valid tracee\.v1beta1\.datastores\.IPReputation: /,
      ],
      // A status outside the enum.
      [
        { key: ipKey("192.0.2.1"), data: { typeUrl: IP_REP_URL, value: Uint8Array.of(0x08, 0x09) } },
        /^data is not a valid tracee\.v1beta1\.datastores\.IPReputation: invalid reputation status: 9$/,
      ],
    ];
    for (const [entry, details] of cases) {
      const outcome = await client.writeData("ip_reputation", "s", entry).outcome;
      expect(outcome.code, JSON.stringify(entry)).toBe(Status.INVALID_ARGUMENT);
      expect(outcome.details).toMatch(details);
    }
    const del = await client.deleteData("ip_reputation", "s", undefined).outcome;
    expect(del).toMatchObject({ code: Status.INVALID_ARGUMENT, details: "key is missing" });
    expect(ip.events).toEqual([]);
  });

  it("a batch with one bad entry writes nothing and names the entry (0-based)", async () => {
    const { client, ip } = await setup();
    const outcome = await client.writeBatchData("ip_reputation", "s", [
      ipEntry("192.0.2.1"),
      ipEntry("192.0.2.2"),
      { key: ipKey("192.0.2.3") },
    ]).outcome;
    expect(outcome).toMatchObject({ code: Status.INVALID_ARGUMENT, details: "entry 2: data is missing" });
    // The store refuses one: also nothing.
    const refused = await client.writeBatchData("ip_reputation", "s", [ipEntry("192.0.2.1"), ipEntry("192.0.2.2", 11)])
      .outcome;
    expect(refused).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: 'datastore "ip_reputation": entry 1: severity must be 1-10, got 11',
    });
    expect(ip.size).toBe(0);
    expect(ip.began("writeBatch")).toBe(0);
  });

  it("an empty batch is INVALID_ARGUMENT", async () => {
    const { client, ip } = await setup();
    expect(await client.writeBatchData("ip_reputation", "s", []).outcome).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: "batch has no entries",
    });
    expect(ip.events).toEqual([]);
  });

  it("unknown store: NOT_FOUND; a read-only store: UNIMPLEMENTED", async () => {
    const { client } = await setup();
    for (const call of [
      client.writeData("nope", "s", ipEntry("192.0.2.1")),
      client.writeBatchData("nope", "s", [ipEntry("192.0.2.1")]),
      client.deleteData("nope", "s", ipKey("192.0.2.1")),
      client.clearSource("nope", "s"),
      client.listSources("nope"),
    ]) {
      expect(await call.outcome).toMatchObject({ code: Status.NOT_FOUND, details: 'datastore "nope" not found' });
    }
    expect(await client.writeData("readonly", "s", ipEntry("192.0.2.1")).outcome).toMatchObject({
      code: Status.UNIMPLEMENTED,
      details: 'datastore "readonly" is not writable',
    });
    expect((await client.listSources("readonly").outcome).code).toBe(Status.UNIMPLEMENTED);
  });

  it("malformed bytes, invalid UTF-8, wrong wire types: INVALID_ARGUMENT 'malformed request: …'", async () => {
    const { raw, ip } = await setup();
    const cases: [Parameters<RawStoresClient["call"]>[0], Uint8Array, string][] = [
      ["WriteData", Uint8Array.of(0x0a, 0x05, 0x61), "malformed request: truncated store_name"],
      ["ListSources", Uint8Array.of(0x0a, 0x02, 0xc3, 0x28), "malformed request: store_name is not valid UTF-8"],
      ["ClearSource", Uint8Array.of(0x10, 0x01), "malformed request: source has wire type varint, expected length-delimited"],
      ["WriteData", Uint8Array.of(0x00), "malformed request: field number 0"],
      ["WriteData", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "malformed request: varint longer than 10 bytes"],
      [
        "WriteData",
        concat(ld(1, "ip_reputation"), ld(2, "s"), ld(3, concat(ld(1, Uint8Array.of(0x0a, 0x09, 0x61))))),
        "malformed request: entry: key: truncated type_url",
      ],
      [
        "WriteBatchData",
        concat(ld(1, "ip_reputation"), ld(2, "s"), ld(3, entryBytes(validKeyAny(), validDataAny())), ld(3, ld(2, Uint8Array.of(0x10, 0x01)))),
        "malformed request: entry 1: data: value has wire type varint, expected length-delimited",
      ],
      ["DeleteData", concat(ld(1, "ip_reputation"), Uint8Array.of(0x2b, 0x08, 0x01)), "malformed request: unterminated group (field 5)"],
      ["DeleteData", concat(ld(1, "ip_reputation"), Uint8Array.of(0x1b)), "malformed request: key has wire type start-group, expected length-delimited"],
      // 40 nested groups in an unknown field.
      ["ListSources", Uint8Array.from([...Array(40).fill(0x4b), ...Array(40).fill(0x4c)]), "malformed request: groups nested too deep"],
    ];
    for (const [method, bytes, details] of cases) {
      expect(await raw.call(method, bytes), details).toMatchObject({ code: Status.INVALID_ARGUMENT, details });
    }
    expect(ip.events).toEqual([]);
  });

  it("protobuf's rules: unknown fields are skipped, a message given twice is merged, the last string wins", async () => {
    const { raw, ip } = await setup();
    const bytes = concat(
      ld(1, "nope"),
      ld(1, "ip_reputation"),
      Uint8Array.of(0x48, 0x2a), // field 9, varint: unknown
      ld(2, "s"),
      ld(3, entryBytes(validKeyAny())), // the key here…
      ld(15, "unknown"),
      Uint8Array.of(0x53, 0x08, 0x01, 0x54), // field 10 as a group: unknown
      ld(3, entryBytes(undefined, validDataAny())), // …the data here
    );
    expect(await raw.call("WriteData", bytes)).toEqual({ code: Status.OK, details: "", response: Buffer.alloc(0) });
    expect(ip.held("s", "10.0.0.1")?.severity).toBe(3);
    // ListSourcesRequest has no field 2: a source there is an unknown field, of any wire type.
    expect(await raw.call("ListSources", concat(ld(1, "ip_reputation"), Uint8Array.of(0x10, 0x01)))).toMatchObject({
      code: Status.OK,
    });
  });

  it("store errors map by kind; anything else is INTERNAL with a generic message, logged", async () => {
    const { logger, lines } = recordingLogger();
    let failure: unknown;
    const store = new MemoryStore("s", ipAddressKeyType, ipReputationType, {
      gate: () => {
        throw failure;
      },
    });
    const registry = new DataStoreRegistry().register(store);
    const server = await serveStores(registry, "tcp", { logger });
    const client = new StoresClient(server.address);
    const cases: [unknown, Status, string][] = [
      [invalidArgument("bad ip"), Status.INVALID_ARGUMENT, 'datastore "s": bad ip'],
      [new DataStoreError("NOT_FOUND", "no such thing"), Status.NOT_FOUND, 'datastore "s": no such thing'],
      [new Error("disk gone", { cause: ErrStoreUnhealthy }), Status.UNAVAILABLE, 'datastore "s": disk gone'],
      [ErrNotImplemented, Status.UNIMPLEMENTED, 'datastore "s": operation not implemented'],
      [new Error("secret path /etc/x\nstack"), Status.INTERNAL, 'datastore "s": internal error'],
      ["a string", Status.INTERNAL, 'datastore "s": internal error'],
    ];
    for (const [err, code, details] of cases) {
      failure = err;
      expect(await client.clearSource("s", "src").outcome).toMatchObject({ code, details });
    }
    expect(lines.filter((l) => l.level === "error").map((l) => l.fields["error"])).toEqual([cases[4]![0], "a string"]);

    const exposing = await serveStores(registry, "tcp", { exposeInternalErrors: true });
    failure = new Error("secret path /etc/x\nstack");
    expect(await new StoresClient(exposing.address).clearSource("s", "src").outcome).toMatchObject({
      code: Status.INTERNAL,
      details: 'datastore "s": secret path /etc/x',
    });
  });

  it("a lookup that throws, or a store returning a bad count, is INTERNAL", async () => {
    const store = new MemoryStore("s", ipAddressKeyType, ipReputationType);
    const broken = Object.assign(Object.create(store) as MemoryStore<string, IPReputation>, {
      clear: () => "seven",
      listSources: () => [1, 2],
    });
    const server = await serveStores(
      {
        get: (name: string) => {
          if (name === "boom") throw new Error("registry down");
          return name === "s" ? broken : undefined;
        },
      } as unknown as DataStoreRegistry,
      "tcp",
    );
    const client = new StoresClient(server.address);
    expect(await client.listSources("boom").outcome).toMatchObject({ code: Status.INTERNAL, details: 'datastore "boom": internal error' });
    expect(await client.clearSource("s", "src").outcome).toMatchObject({
      code: Status.INTERNAL,
      details: 'datastore "s" returned an invalid result',
    });
    expect((await client.listSources("s").outcome).code).toBe(Status.INTERNAL);
  });

  it("a huge store name or type URL is clipped in the status message", async () => {
    const { client } = await setup();
    const name = "n".repeat(100_000);
    const outcome = await client.listSources(name).outcome;
    expect(outcome.code).toBe(Status.NOT_FOUND);
    expect(outcome.details).toBe(`datastore "${"n".repeat(100)}…" not found`);
    const url = "x".repeat(200_000);
    const wrong = await client.writeData("ip_reputation", "s", { key: { typeUrl: url, value: new Uint8Array() }, data: ipData(rep(1)) })
      .outcome;
    expect(wrong.code).toBe(Status.INVALID_ARGUMENT);
    expect(wrong.details.length).toBeLessThanOrEqual(1025);
  });
});

describe("running the service yourself", () => {
  it("dataStoreService() on your own grpc.Server, over a unix socket", async () => {
    const { ip, registry } = storeFixture();
    const service = dataStoreService(registry);
    const server = new Server();
    server.addService(service.definition, service.implementation);
    const path = join(tempDir(), "stores.sock");
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    trackServer({
      close: async () => {
        server.forceShutdown();
        await service.idle();
      },
    });
    const client = new StoresClient(`unix://${path}`);
    expect(await client.writeBatchData("ip_reputation", "s", [ipEntry("192.0.2.9")]).outcome).toMatchObject({
      code: Status.OK,
      response: { writtenCount: 1 },
    });
    expect(ip.size).toBe(1);
    expect(service.stats().answers.WriteBatchData).toEqual({ OK: 1 });
  });

  it("refuses invalid limits with RangeError", () => {
    expect(() => dataStoreService(new DataStoreRegistry(), { maxBatchEntries: 0 })).toThrow(RangeError);
    expect(() => dataStoreService(new DataStoreRegistry(), { maxBatchEntries: 1.5 })).toThrow(RangeError);
    expect(() => dataStoreService(new DataStoreRegistry(), { maxMessageBytes: -1 })).toThrow(RangeError);
    expect(() => dataStoreService(new DataStoreRegistry(), { maxBatchEntries: Infinity })).not.toThrow();
  });
});
