import { describe, expect, it } from "vitest";
import {
  type DataSource,
  defineWritableDataSource,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  type WritableDataSource,
  t,
  type WriteData,
} from "tracee-ds";
import {
  assertDataSource,
  type CheckDataSourceOptions,
  checkDataSource,
  DataSourceContractError,
  fakeDataSource,
  fakeWritableDataSource,
  type ViolationKind,
} from "tracee-ds/testing";
import { ThresholdDataSource } from "../../examples/threshold/threshold-datasource.js";
import { createThresholdDataSource } from "../../examples/threshold/threshold-typed.js";
import { type Ioc, IocDataSource } from "./support.js";

const iocOptions: CheckDataSourceOptions = {
  validKeys: ["evil.example"],
  missingKeys: ["good.example", ""],
  badKeys: [42, true, null, { k: 1 }, ["evil.example"]],
  goodWrites: [{ "new.example": { severity: 1 } }, new Map([["evil.example", { severity: 4 }]])],
  badWrites: [
    { "evil.example": "high" },
    { "evil.example": { severity: 9 }, "other.example": { severity: "x" } },
    new Map([[7, { severity: 1 }]]),
  ],
};

const validateIoc = (value: unknown): Ioc => {
  const severity = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["severity"] : undefined;
  if (typeof severity !== "number") throw ErrFailedToUnmarshal;
  return { severity };
};

describe("checkDataSource passes sound data sources", () => {
  it("the hand-written IocDataSource", async () => {
    expect(await checkDataSource(new IocDataSource({ "evil.example": { severity: 3 } }), iocOptions)).toEqual([]);
  });

  it("fakeWritableDataSource, with and without validate", async () => {
    const data = { "evil.example": { severity: 3 } };
    expect(await checkDataSource(fakeWritableDataSource({ namespace: "t", id: "v", data, validate: validateIoc }), iocOptions)).toEqual([]);
    expect(
      await checkDataSource(fakeWritableDataSource({ namespace: "t", id: "w", data }), {
        ...iocOptions,
        badWrites: [{ "evil.example": "high" }, { "evil.example": { severity: 9 }, x: 1 }, new Map([[7, { severity: 1 }]])],
      }),
    ).toEqual([]);
  });

  it("fakeDataSource (read-only: no writes)", async () => {
    const ds = fakeDataSource({ namespace: "t", id: "r", data: new Map([[1, { name: "init" }]]) });
    expect(await checkDataSource(ds, { validKeys: [1], missingKeys: [2], badKeys: ["1", null] })).toEqual([]);
  });

  it("the threshold example", async () => {
    // ThresholdDataSource answers only "threshold": any other key is ErrKeyNotSupported, so it has no missing keys.
    const violations = await checkDataSource(new ThresholdDataSource(), {
      validKeys: ["threshold"],
      badKeys: ["limit", 5, { threshold: true }],
      goodWrites: [{ threshold: 7 }, { threshold: 9.9 }],
      badWrites: [{ threshold: "seven" }, { threshold: null }, { limit: 5 }, { threshold: [1] }],
    });
    expect(violations).toEqual([]);
  });

  it("a data source whose write is async", async () => {
    class AsyncIocs extends IocDataSource {
      override write(data: WriteData): Promise<void> {
        return new Promise((resolve, reject) =>
          setImmediate(() => {
            try {
              super.write(data);
              resolve();
            } catch (err) {
              reject(err as Error);
            }
          }),
        );
      }
    }
    expect(await checkDataSource(new AsyncIocs({ "evil.example": { severity: 3 } }), iocOptions)).toEqual([]);
  });
});

/** The sound IocDataSource with one method replaced. */
function broken(overrides: Partial<Record<keyof WritableDataSource, unknown>>): DataSource {
  const ds = new IocDataSource({ "evil.example": { severity: 3 } });
  return Object.assign(ds, overrides) as unknown as DataSource;
}

// Each case builds a fresh data source, so no case sees another's writes.
const cases: [string, ViolationKind, () => DataSource, CheckDataSourceOptions?][] = [
  ["an empty namespace", "identity", () => broken({ namespace: () => "" })],
  ["an id that throws", "identity", () => broken({ id: () => { throw new Error("no id"); } })],
  ["version 0", "version", () => broken({ version: () => 0 })],
  ["version 1.5", "version", () => broken({ version: () => 1.5 })],
  ["a schema that is not JSON", "schema", () => broken({ schema: () => "{threshold: int}" })],
  ["a schema that is not a string", "schema", () => broken({ schema: () => ({ severity: "int" }) })],
  ["no keys", "keys", () => broken({ keys: () => [] })],
  ["keys that are not strings", "keys", () => broken({ keys: () => [1] })],
  ["no values", "values", () => broken({ values: () => [] })],
  ["get of a valid key throwing", "get-valid", () => broken({ get: () => { throw ErrDataNotFound; } })],
  ["get returning a string", "get-valid", () => broken({ get: () => "3" })],
  ["get returning null", "get-valid", () => broken({ get: () => null })],
  ["get returning a Promise", "get-valid", () => broken({ get: () => Promise.resolve({ severity: 3 }) })],
  [
    "a missing key answered with undefined fields",
    "get-missing",
    () => broken({ get: (k: unknown) => (typeof k === "string" ? { severity: k === "evil.example" ? 3 : undefined } : {}) }),
    { validKeys: ["evil.example"], missingKeys: ["good.example"] },
  ],
  [
    "a missing key refused with ErrKeyNotSupported",
    "get-missing",
    () => broken({ get: (k: unknown) => { if (k === "evil.example") return { severity: 3 }; throw ErrKeyNotSupported; } }),
    { validKeys: ["evil.example"], missingKeys: ["good.example"] },
  ],
  [
    "a bad key answered with ErrDataNotFound",
    "get-bad-key",
    () => broken({ get: (k: unknown) => { if (k === "evil.example") return { severity: 3 }; throw ErrDataNotFound; } }),
    { validKeys: ["evil.example"], badKeys: [42] },
  ],
  [
    "a bad key crashing with a TypeError",
    "get-bad-key",
    () => broken({ get: (k: unknown) => { if (k === "evil.example") return { severity: 3 }; return (k as string).toUpperCase(); } }),
    { validKeys: ["evil.example"], badKeys: [42] },
  ],
  [
    "writes to a read-only source",
    "not-writable",
    () => fakeDataSource({ namespace: "t", id: "r", data: { a: { n: 1 } } }),
    { validKeys: ["a"], goodWrites: [{ a: { n: 2 } }] },
  ],
  ["a good write refused", "write-good", () => broken({ write: () => { throw ErrFailedToUnmarshal; } }), { goodWrites: [{ a: { severity: 1 } }] }],
  ["a bad write accepted", "write-bad", () => broken({ write: () => undefined }), { badWrites: [{ a: "x" }] }],
  [
    "a bad write refused with a plain Error",
    "write-bad",
    () => broken({ write: () => { throw new Error("nope"); } }),
    { badWrites: [{ a: "x" }] },
  ],
  [
    "a bad write refused after storing its first entry",
    "write-changed",
    () => {
      const store = new Map<string, Ioc>([["evil.example", { severity: 3 }]]);
      return broken({
        get: (k: unknown) => store.get(k as string) ?? {},
        write: (data: WriteData) => {
          for (const [k, v] of data) {
            if (typeof v !== "object" || v === null) throw ErrFailedToUnmarshal;
            store.set(k as string, v as Ioc);
          }
        },
      });
    },
    { validKeys: ["evil.example"], badWrites: [new Map<string, unknown>([["evil.example", { severity: 9 }], ["x", "bad"]]) as WriteData] },
  ],
  [
    "a bad write that mutates the object get handed out",
    "write-changed",
    () => {
      const ioc = { severity: 3 };
      return broken({
        get: () => ioc,
        write: () => {
          ioc.severity = 0;
          throw ErrFailedToUnmarshal;
        },
      });
    },
    { validKeys: ["evil.example"], badWrites: [{ "evil.example": "x" }] },
  ],
];

describe("checkDataSource catches each kind of violation", () => {
  it.each(cases)("%s → %s", async (_name, kind, make, options = { validKeys: ["evil.example"] }) => {
    const violations = await checkDataSource(make(), options);
    expect(violations.map((v) => v.kind)).toContain(kind);
    for (const v of violations) expect(v.message).toEqual(expect.any(String));
  });

  it("reports only the violation there is, and names the key and the error", async () => {
    const ds = broken({ get: (k: unknown) => { if (k === "evil.example") return { severity: 3 }; throw ErrDataNotFound; } });
    const violations = await checkDataSource(ds, { validKeys: ["evil.example"], missingKeys: ["nope"], badKeys: [42] });
    expect(violations).toEqual([
      {
        kind: "get-bad-key",
        key: 42,
        message: "get(42) must throw ErrKeyNotSupported, but threw DATA_NOT_FOUND (requested data was not found)",
        error: ErrDataNotFound,
      },
    ]);
  });

  it("describes a changed value before and after", async () => {
    const [, , make, options] = cases.find(([name]) => name.startsWith("a bad write refused after")) ?? [];
    const violations = await checkDataSource(make?.() ?? broken({}), options);
    expect(violations.find((v) => v.kind === "write-changed")?.message).toBe(
      'write({"evil.example": {"severity":9}, "x": "bad"}) was refused but changed get("evil.example") from {"severity":3} to {"severity":9}',
    );
  });

  it("assertDataSource throws every violation at once, and passes a sound source", async () => {
    const err = await assertDataSource(broken({ version: () => 0, keys: () => [] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataSourceContractError);
    expect((err as DataSourceContractError).violations.map((v) => v.kind)).toEqual(["version", "keys"]);
    expect((err as Error).message).toContain("[version] version() must be an integer >= 1, got 0");
    await expect(assertDataSource(new IocDataSource(), { missingKeys: ["x"] })).resolves.toBeUndefined();
  });
});

describe("checkDataSource and defineWritableDataSource", () => {
  it("passes the typed threshold example, before and after its first write", async () => {
    const badKeys = ["limit", 5, null, { threshold: true }];
    const badWrites = [{ threshold: 5.5 }, { threshold: 0 }, { threshold: "seven" }, { limit: 5 }, { threshold: 8, limit: 5 }];
    // Without a starting threshold, "threshold" is a missing key: ErrDataNotFound.
    expect(await checkDataSource(createThresholdDataSource(), { missingKeys: ["threshold"], badKeys })).toEqual([]);
    expect(
      await checkDataSource(createThresholdDataSource(5), {
        validKeys: ["threshold"],
        badKeys,
        goodWrites: [{ threshold: 7 }],
        badWrites,
      }),
    ).toEqual([]);
  });

  it("passes a typed IOC data source, with missing keys", async () => {
    const iocs = defineWritableDataSource({
      namespace: "test",
      id: "iocs",
      key: t.string(),
      value: t.record({ severity: t.int() }),
      result: "value",
      data: [["evil.example", { severity: 3 }]],
    });
    expect(await checkDataSource(iocs, iocOptions)).toEqual([]);
  });
});
