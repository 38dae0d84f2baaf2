import { describe, expect, it } from "vitest";
import {
  type DataSource,
  DataSourceRegistry,
  dataSourceRef,
  type Finding,
  type Logger,
  RegistryError,
  type SignatureContext,
} from "tracee-ds";
import { createSignatureContext, fakeDataSource } from "tracee-ds/testing";
import { IocDataSource, thrown } from "./support.js";

const finding = (n: number): Finding => ({
  data: { n },
  event: { headers: { selector: { source: "tracee", name: "e", origin: "host" } }, payload: null },
  sigMetadata: { id: "T-1", version: "1", name: "t", eventName: "t", description: "" },
});

// The same lookups and callbacks, through the real registry's context and
// through the test context: the test context must answer as the real one does.
const contexts: [string, (sources: DataSource[]) => { ctx: SignatureContext; findings: Finding[] }][] = [
  [
    "registry.context",
    (sources) => {
      const registry = new DataSourceRegistry();
      for (const ds of sources) registry.register(ds);
      const findings: Finding[] = [];
      return { ctx: registry.context({ callback: (f) => findings.push(f) }), findings };
    },
  ],
  ["createSignatureContext", (sources) => createSignatureContext({ dataSources: sources })],
];

describe.each(contexts)("a signature context: %s", (_name, make) => {
  const iocs = new IocDataSource();
  const other = fakeDataSource({ namespace: "test", id: "other", data: {} });

  it.each([
    ["test", "iocs", iocs],
    ["test", "other", other],
    ["test", "missing", undefined],
    ["nope", "iocs", undefined],
    ["", "", undefined],
  ])("getDataSource(%j, %j)", (namespace, id, expected) => {
    const { ctx } = make([iocs, other]);
    expect(ctx.getDataSource(namespace, id)).toBe(expected);
  });

  it("looks a typed reference up", () => {
    const { ctx } = make([iocs]);
    expect(ctx.getDataSource(dataSourceRef<IocDataSource>("test", "iocs"))).toBe(iocs);
    expect(ctx.getDataSource(dataSourceRef("test", "none"))).toBeUndefined();
  });

  it("hands findings from callback over in order, and its members work destructured", () => {
    const { ctx, findings } = make([]);
    const { callback, logger } = ctx;
    callback(finding(1));
    callback(finding(2));
    logger.info("ignored or captured", "k", 1);
    expect(findings.map((f) => f.data["n"])).toEqual([1, 2]);
  });

  it("refuses two data sources with the same namespace/id", () => {
    const err = thrown(() => make([new IocDataSource(), new IocDataSource()]));
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe("DUPLICATE_DATA_SOURCE");
  });
});

describe("createSignatureContext", () => {
  it("captures log lines and also passes them to the given logger", () => {
    const seen: string[] = [];
    const logger: Logger = {
      debug: (m) => seen.push(`debug ${m}`),
      info: (m) => seen.push(`info ${m}`),
      warn: (m) => seen.push(`warn ${m}`),
      error: (m) => seen.push(`error ${m}`),
    };
    const test = createSignatureContext({ logger });
    test.ctx.logger.debug("d");
    test.ctx.logger.warn("w", "pid", 7);
    test.ctx.logger.error("e");
    expect(test.logs).toEqual([
      { level: "debug", msg: "d", keyvals: [] },
      { level: "warn", msg: "w", keyvals: ["pid", 7] },
      { level: "error", msg: "e", keyvals: [] },
    ]);
    expect(seen).toEqual(["debug d", "warn w", "error e"]);
    test.clear();
    expect(test.logs).toEqual([]);
  });

  it("uses a given registry as it is, so later registrations are seen", () => {
    const registry = new DataSourceRegistry();
    const test = createSignatureContext({ dataSources: registry });
    expect(test.registry).toBe(registry);
    expect(test.ctx.getDataSource("test", "iocs")).toBeUndefined();
    const iocs = new IocDataSource();
    registry.register(iocs);
    expect(test.ctx.getDataSource("test", "iocs")).toBe(iocs);
  });

  it("works with no options at all", () => {
    const test = createSignatureContext();
    expect(test.registry.size).toBe(0);
    expect(test.findings).toEqual([]);
  });
});
