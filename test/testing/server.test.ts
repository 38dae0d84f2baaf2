import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataSourceRegistry, ErrFailedToUnmarshal, type WritableDataSource } from "tracee-ds";
import { isDataSourceClientError } from "tracee-ds/grpc";
import { fakeDataSource, fakeWritableDataSource, startTestServer, type TestServer } from "tracee-ds/testing";
import { ThresholdDataSource } from "../../examples/threshold/threshold-datasource.js";
import { type Ioc, IocDataSource } from "./support.js";

let open: TestServer[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.close({ graceMs: 0 })));
  open = [];
});
const start = async (...args: Parameters<typeof startTestServer>) => {
  const server = await startTestServer(...args);
  open.push(server);
  return server;
};

/** The gRPC status name a promise rejects with, or "OK". */
const statusOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "OK",
    (err: unknown) => (isDataSourceClientError(err) ? err.codeName : `not a client error: ${String(err)}`),
  );

describe("startTestServer", () => {
  it.each([["tcp"], ["unix"]] as const)("round trip over %s: write through the client, read back with get", async (transport) => {
    const threshold = new ThresholdDataSource();
    const server = await start([threshold], { transport });
    expect(server.address).toMatch(transport === "tcp" ? /^127\.0\.0\.1:\d+$/ : /^unix:\/\/\/.+\/ds\.sock$/);
    await server.client.write({ namespace: "my_namespace", id: "threshold_datasource", key: "threshold", value: 10 });
    expect(threshold.get("threshold")).toEqual({ threshold: 10 });
    expect(server.registry.get("my_namespace", "threshold_datasource")).toBe(threshold);
  });

  it("serves a registry as it is, and writes a stream all at once", async () => {
    const fake = fakeWritableDataSource({ namespace: "test", id: "iocs" });
    const registry = new DataSourceRegistry().register(fake);
    const server = await start(registry);
    expect(server.registry).toBe(registry);
    await server.client.writeStream([
      { namespace: "test", id: "iocs", key: "a.example", value: { severity: 1 } },
      { namespace: "test", id: "iocs", key: "b.example", value: { severity: 2 } },
    ]);
    expect(fake.writes).toHaveLength(1);
    expect([...(fake.writes[0]?.data.keys() ?? [])]).toEqual(["a.example", "b.example"]);
    expect(fake.get("b.example")).toEqual({ severity: 2 });
  });

  it("removes the unix socket's temporary directory on close, and close twice is one close", async () => {
    const server = await startTestServer([], { transport: "unix" });
    const dir = dirname(server.address.slice("unix://".length));
    expect(existsSync(dir)).toBe(true);
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    expect(existsSync(dir)).toBe(false);
  });

  it("makes more clients with connect()", async () => {
    const fake = fakeWritableDataSource({ namespace: "test", id: "iocs" });
    const server = await start([fake]);
    const other = server.connect();
    await other.write({ namespace: "test", id: "iocs", key: "x", value: { severity: 5 } });
    expect(fake.get("x")).toEqual({ severity: 5 });
  });

  it("rejects a list holding the same data source twice, as the registry does", async () => {
    const ds = new IocDataSource();
    await expect(startTestServer([ds, ds])).rejects.toThrow(/already registered/);
  });
});

// The same writes through the server against the hand-written data source and
// the fake standing in for it: the server must answer both the same way.
const severityOf = (value: unknown): Ioc => {
  const severity = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["severity"] : undefined;
  if (typeof severity !== "number") throw ErrFailedToUnmarshal;
  return { severity };
};
const writables: [string, () => WritableDataSource<unknown, Ioc>][] = [
  ["hand-written IocDataSource", () => new IocDataSource({ "a.example": { severity: 1 } })],
  [
    "fakeWritableDataSource",
    () =>
      fakeWritableDataSource<Ioc>({ namespace: "test", id: "iocs", data: { "a.example": { severity: 1 } }, validate: severityOf }),
  ],
];

describe.each(writables)("the server's answers for %s", (_name, make) => {
  it.each([
    ["a good write", "a.example", { severity: 7 }, "OK", { severity: 7 }],
    ["a value it cannot read", "a.example", "high", "INVALID_ARGUMENT", { severity: 1 }],
    ["a key of another kind", 5, { severity: 7 }, "INVALID_ARGUMENT", { severity: 1 }],
  ] as const)("%s", async (_case, key, value, status, after) => {
    const ds = make();
    const server = await start([ds]);
    expect(await statusOf(server.client.write({ namespace: "test", id: "iocs", key, value }))).toBe(status);
    expect(ds.get("a.example")).toEqual(after);
  });

  it("an unknown data source → NOT_FOUND", async () => {
    const server = await start([make()]);
    expect(await statusOf(server.client.write({ namespace: "test", id: "nope", key: "k", value: {} }))).toBe("NOT_FOUND");
  });
});

describe("fakes through the server", () => {
  it("a read-only fake → UNIMPLEMENTED", async () => {
    const server = await start([fakeDataSource({ namespace: "test", id: "ro", data: {} })]);
    expect(await statusOf(server.client.write({ namespace: "test", id: "ro", key: "k", value: {} }))).toBe("UNIMPLEMENTED");
  });

  it("failNextWrite with an ordinary error → INTERNAL, and nothing written", async () => {
    const fake = fakeWritableDataSource({ namespace: "test", id: "iocs" });
    fake.failNextWrite(new Error("disk full"));
    const server = await start([fake]);
    expect(await statusOf(server.client.write({ namespace: "test", id: "iocs", key: "k", value: { n: 1 } }))).toBe("INTERNAL");
    expect(fake.snapshot().size).toBe(0);
    await server.client.write({ namespace: "test", id: "iocs", key: "k", value: { n: 1 } });
    expect(fake.get("k")).toEqual({ n: 1 });
  });
});
