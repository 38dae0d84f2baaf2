/**
 * Type tests: `npm test` runs `tsc --noEmit` over test/, which checks these
 * expectTypeOf assertions; vitest runs the (trivial) runtime part.
 */
import type { JsonValue } from "type-fest";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  DataSourceRegistry,
  dataSourceRef,
  defineDataSource,
  defineWritableDataSource,
  type DataSource,
  type Infer,
  type WritableDataSource,
} from "tracee-ds";
import { decode, safeDecode, t } from "tracee-ds/codec";

describe("Infer", () => {
  it("scalars", () => {
    expectTypeOf<Infer<ReturnType<typeof t.int>>>().toEqualTypeOf<number>();
    expectTypeOf<Infer<ReturnType<typeof t.string>>>().toEqualTypeOf<string>();
    expectTypeOf<Infer<ReturnType<typeof t.bool>>>().toEqualTypeOf<boolean>();
    expectTypeOf<Infer<ReturnType<typeof t.json>>>().toEqualTypeOf<JsonValue>();
  });

  it("literal and enum keep their literal types", () => {
    const key = t.literal("threshold");
    expectTypeOf<Infer<typeof key>>().toEqualTypeOf<"threshold">();
    expectTypeOf<Infer<ReturnType<typeof t.literal<5>>>>().toEqualTypeOf<5>();
    const severity = t.enum(["low", "medium", "high"]);
    expectTypeOf<Infer<typeof severity>>().toEqualTypeOf<"low" | "medium" | "high">();
    const mixed = t.enum([1, "two", null]);
    expectTypeOf<Infer<typeof mixed>>().toEqualTypeOf<1 | "two" | null>();
  });

  it("a record of lists of optional nullable values, maps and nested records", () => {
    const Ioc = t.record({
      sha256: t.string(),
      severity: t.enum(["low", "high"]),
      tags: t.list(t.string()),
      scores: t.list(t.optional(t.nullable(t.int()))),
      first_seen: t.optional(t.string()),
      last_seen: t.optional(t.nullable(t.string())),
      labels: t.map(t.string()),
      source: t.record({ name: t.string(), url: t.nullable(t.string()) }),
      raw: t.optional(t.json()),
    });
    expectTypeOf<Infer<typeof Ioc>>().toEqualTypeOf<{
      sha256: string;
      severity: "low" | "high";
      tags: string[];
      scores: (number | null | undefined)[];
      labels: { [key: string]: string };
      source: { name: string; url: string | null };
      first_seen?: string;
      last_seen?: string | null;
      raw?: JsonValue;
    }>();
    const Feed = t.map(t.list(Ioc));
    expectTypeOf<Infer<typeof Feed>>().toEqualTypeOf<{ [key: string]: Infer<typeof Ioc>[] }>();
  });

  it("records that keep unknown fields have an index signature", () => {
    const Open = t.record({ a: t.int() }, { unknown: "keep" });
    expectTypeOf<Infer<typeof Open>>().toEqualTypeOf<{ [field: string]: unknown; a: number }>();
    const Stripped = t.record({ a: t.int() }, { unknown: "strip" });
    expectTypeOf<Infer<typeof Stripped>>().toEqualTypeOf<{ a: number }>();
  });

  it("decode returns the schema's type; safeDecode narrows on success", () => {
    const s = t.record({ n: t.int() });
    expectTypeOf(decode(s, { n: 1 })).toEqualTypeOf<{ n: number }>();
    const r = safeDecode(s, {});
    if (r.success) expectTypeOf(r.value).toEqualTypeOf<{ n: number }>();
    else expectTypeOf(r.error.message).toBeString();
  });
});

describe("typed data sources", () => {
  const threshold = defineWritableDataSource({
    namespace: "my_namespace",
    id: "threshold_datasource",
    key: t.literal("threshold"),
    value: t.int({ min: 1 }),
    data: [["threshold", 5]],
  });

  it("get is typed by the key and value schemas", () => {
    expectTypeOf(threshold.get).parameter(0).toEqualTypeOf<"threshold">();
    expectTypeOf(threshold.get("threshold")).toEqualTypeOf<{ readonly threshold: number }>();
    expectTypeOf(threshold.lookup("threshold")).toEqualTypeOf<number | undefined>();
  });

  it("satisfies the contracts and registers", () => {
    expectTypeOf(threshold).toExtend<WritableDataSource>();
    new DataSourceRegistry().register(threshold);
  });

  it("a typed reference gives the concrete type back", () => {
    const registry = new DataSourceRegistry().register(threshold);
    const ctx = registry.context({ callback: () => {} });
    expectTypeOf(ctx.getDataSource(threshold.ref)).toEqualTypeOf<typeof threshold | undefined>();
    const ref = dataSourceRef<typeof threshold>("my_namespace", "threshold_datasource");
    expectTypeOf(ctx.getDataSource(ref)?.get("threshold").threshold).toEqualTypeOf<number | undefined>();
  });

  it("result shapes: entry for a union of keys, the value, or a function", () => {
    const limits = defineWritableDataSource({
      namespace: "n",
      id: "limits",
      key: t.enum(["soft", "hard"]),
      value: t.list(t.int()),
      data: [["soft", [1]]],
    });
    expectTypeOf(limits.get("soft")).toEqualTypeOf<
      { readonly soft: readonly number[] } | { readonly hard: readonly number[] }
    >();

    const Container = t.record({ container_id: t.string(), k8s_pod_sandbox: t.bool() });
    const containers = defineDataSource({
      namespace: "tracee",
      id: "containers",
      key: t.string(),
      value: Container,
      result: "value",
      data: [["abc", { container_id: "abc", k8s_pod_sandbox: false }]],
    });
    expectTypeOf(containers.get("abc")).toEqualTypeOf<{ readonly container_id: string; readonly k8s_pod_sandbox: boolean }>();
    expectTypeOf(containers).toExtend<DataSource>();

    const shaped = defineDataSource({
      namespace: "n",
      id: "shaped",
      key: t.string(),
      value: t.int(),
      result: (key, value) => ({ key, doubled: value * 2 }),
      schema: { key: "string", doubled: "int" },
      data: [["x", 1]],
    });
    expectTypeOf(shaped.get("x")).toEqualTypeOf<{ readonly key: string; readonly doubled: number }>();
  });

  it("rejects mistakes at compile time", () => {
    // @ts-expect-error the key schema only takes "threshold"
    expect(() => threshold.get("limit")).toThrow();
    expect(() =>
      // @ts-expect-error a result function needs a schema description (and at run time, a TypeError)
      defineDataSource({ namespace: "n", id: "x", key: t.string(), value: t.int(), result: (k: string) => ({ k }) }),
    ).toThrow(TypeError);
    // @ts-expect-error keys are scalars: a list schema cannot be a key
    expectTypeOf(defineDataSource).toBeCallableWith({ namespace: "n", id: "x", key: t.list(t.int()), value: t.int() });
  });
});
