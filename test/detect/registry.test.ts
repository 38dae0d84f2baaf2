import { describe, expect, it } from "vitest";
import {
  type DataSource,
  DataSourceRegistry,
  dataSourceRef,
  ErrDataNotFound,
  type Finding,
  isWritable,
  RegistryError,
  type WriteData,
} from "tracee-ds";

class StaticSource implements DataSource<string, { value: string }> {
  constructor(
    private readonly ns: string,
    private readonly name: string,
    private readonly v = 1,
  ) {}
  get(key: string): { value: string } {
    if (key !== "k") throw ErrDataNotFound;
    return { value: `${this.ns}/${this.name}` };
  }
  version() {
    return this.v;
  }
  keys() {
    return ["string"];
  }
  schema() {
    return '{"value":"string"}';
  }
  namespace() {
    return this.ns;
  }
  id() {
    return this.name;
  }
}

class WritableSource extends StaticSource {
  written: WriteData[] = [];
  write(data: WriteData) {
    this.written.push(data);
  }
  values() {
    return ["string"];
  }
}

describe("DataSourceRegistry", () => {
  it("looks data sources up by namespace then id", () => {
    const registry = new DataSourceRegistry();
    const a = new StaticSource("ns1", "a");
    const b = new StaticSource("ns1", "b");
    const c = new StaticSource("ns2", "a");
    registry.register(a).register(b).register(c);
    expect(registry.get("ns1", "a")).toBe(a);
    expect(registry.get("ns1", "b")).toBe(b);
    expect(registry.get("ns2", "a")).toBe(c);
    expect(registry.get("ns2", "b")).toBeUndefined();
    expect(registry.get("ns3", "a")).toBeUndefined();
    expect(registry.has("ns1", "a")).toBe(true);
    expect(registry.has("ns3", "a")).toBe(false);
    expect(registry.size).toBe(3);
    expect(registry.list()).toEqual([a, b, c]);
    expect(registry.namespaces()).toEqual(["ns1", "ns2"]);
  });

  it("rejects a duplicate namespace/id with an error naming both data sources", () => {
    const registry = new DataSourceRegistry();
    registry.register(new StaticSource("my_namespace", "threshold", 1));
    const attempt = () => registry.register(new WritableSource("my_namespace", "threshold", 2));
    expect(attempt).toThrow(RegistryError);
    expect(attempt).toThrow(
      "cannot register data source my_namespace/threshold (WritableSource v2): my_namespace/threshold is already registered (StaticSource v1)",
    );
    try {
      attempt();
    } catch (err) {
      expect((err as RegistryError).code).toBe("DUPLICATE_DATA_SOURCE");
    }
    // the first registration stays
    expect(registry.get("my_namespace", "threshold")?.version()).toBe(1);
    expect(registry.size).toBe(1);
  });

  it("rejects objects that do not implement the contract", () => {
    const registry = new DataSourceRegistry();
    const broken = { namespace: () => "ns", id: () => "x" } as unknown as DataSource;
    expect(() => registry.register(broken)).toThrow("it has no get() method");
    const empty = new StaticSource("", "x");
    expect(() => registry.register(empty)).toThrow(/namespace and id must be non-empty strings, got "" and "x"/);
    expect(registry.size).toBe(0);
  });

  it("unregisters", () => {
    const registry = new DataSourceRegistry().register(new StaticSource("ns", "a"));
    expect(registry.unregister("ns", "a")).toBe(true);
    expect(registry.unregister("ns", "a")).toBe(false);
    expect(registry.namespaces()).toEqual([]);
    registry.register(new StaticSource("ns", "a"));
    expect(registry.size).toBe(1);
  });

  it("builds a SignatureContext whose getDataSource sees the registry live", () => {
    const registry = new DataSourceRegistry();
    const findings: Finding[] = [];
    const ctx = registry.context({ callback: (f) => findings.push(f) });
    const { getDataSource } = ctx; // plain functions: safe to destructure
    expect(getDataSource("ns", "a")).toBeUndefined();
    const a = new WritableSource("ns", "a");
    registry.register(a);
    expect(getDataSource("ns", "a")).toBe(a);
    expect(getDataSource("ns", "b")).toBeUndefined();
    const finding: Finding = {
      data: { x: 1 },
      event: { headers: { selector: { name: "e", origin: "host", source: "tracee" } }, payload: null },
      sigMetadata: { id: "S", version: "1", name: "n", eventName: "e", description: "" },
    };
    ctx.callback(finding);
    expect(findings).toEqual([finding]);
    // the default logger accepts calls and drops them
    expect(() => ctx.logger.info("hello", "k", 1)).not.toThrow();
  });

  it("passes the given logger through", () => {
    const lines: string[] = [];
    const logger = {
      debug: (m: string) => lines.push(`debug ${m}`),
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    };
    const ctx = new DataSourceRegistry().context({ callback: () => {}, logger });
    ctx.logger.warn("careful");
    expect(lines).toEqual(["warn careful"]);
  });

  it("returns the concrete type through a typed reference", () => {
    const registry = new DataSourceRegistry();
    const ds = new WritableSource("ns", "w");
    registry.register(ds);
    const ref = dataSourceRef<WritableSource>("ns", "w");
    const found = registry.context({ callback: () => {} }).getDataSource(ref);
    expect(found).toBe(ds);
    // typed: `written` exists only on WritableSource
    expect(found?.written).toEqual([]);
    expect(registry.get(dataSourceRef<WritableSource>("ns", "missing"))).toBeUndefined();
  });

  it("accepts data sources whose result type is an interface", () => {
    interface Threshold {
      threshold: number;
    }
    class InterfaceResult extends StaticSource {
      override get(): { value: string } & Threshold {
        return { value: "x", threshold: 3 };
      }
    }
    const typed: DataSource<string, Threshold> = new InterfaceResult("ns", "iface");
    const registry = new DataSourceRegistry().register(typed);
    expect(registry.get("ns", "iface")?.get("threshold")).toEqual({ value: "x", threshold: 3 });
  });

  it("tells writable data sources from read-only ones", () => {
    expect(isWritable(new WritableSource("ns", "w"))).toBe(true);
    expect(isWritable(new StaticSource("ns", "r"))).toBe(false);
  });
});
