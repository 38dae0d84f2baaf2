/**
 * Tracee's writable data store e2e check, without Tracee: the data source
 * against the contract, and the detector on the exit of `ds_writer` before
 * and after `bruh` = `moment` is written.
 */
import { decodeEventJson, type TraceeEvent } from "tracee-ds/events";
import { checkDataSource, DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { E2E_CAPACITY, E2eWritableDataSource } from "./e2e-writable-data-source.js";
import { createWritableDataStore } from "./writable-data-store.js";

const write = (ds: E2eWritableDataSource, entries: Record<string, string>) => ds.write(new Map(Object.entries(entries)));

describe("E2eWritableDataSource", () => {
  it("keeps the data source contract", async () => {
    const ds = new E2eWritableDataSource();
    write(ds, { bruh: "moment" });
    const violations = await checkDataSource(ds, {
      validKeys: ["bruh"],
      missingKeys: ["nope", ""],
      badKeys: [1, true, null, { bruh: 1 }],
      goodWrites: [{ bruh: "moment" }, { apple: "pie", banana: "split" }],
      badWrites: [{ bruh: 5 }, { bruh: null }, { bruh: { value: "moment" } }, new Map([[1, "one"]]), { fine: "yes", bad: 7 }],
    });
    expect(violations).toEqual([]);
    expect([ds.namespace(), ds.id(), ds.version(), ds.keys(), ds.values(), JSON.parse(ds.schema())]).toEqual([
      "e2e_inst",
      "demo",
      1,
      ["string"],
      ["string"],
      { value: "string" },
    ]);
  });

  it("answers { value } for a written key; a bad write stores nothing", () => {
    const ds = new E2eWritableDataSource();
    write(ds, { bruh: "moment" });
    expect(ds.get("bruh")).toEqual({ value: "moment" });
    expect(() => ds.write(new Map<string, string | number>([["fine", "yes"], ["bad", 7]]))).toThrow();
    expect(() => ds.get("fine")).toThrow(/not found/);
  });

  it("keeps the 1024 most recently used entries", () => {
    const ds = new E2eWritableDataSource();
    write(ds, { bruh: "moment" });
    for (let i = 0; i < E2E_CAPACITY - 1; i++) write(ds, { [`word${i}`]: "x" });
    expect(ds.size).toBe(E2E_CAPACITY);
    ds.get("bruh"); // a use: now the most recent
    write(ds, { extra: "x" });
    expect(ds.size).toBe(E2E_CAPACITY);
    expect(ds.get("bruh")).toEqual({ value: "moment" });
    expect(() => ds.get("word0")).toThrow(/not found/); // the least recently used went
    expect(ds.get("word1")).toEqual({ value: "x" });
  });
});

/** A thread of `comm` exiting, as Tracee prints sched_process_exit. */
function exit(comm: string): TraceeEvent {
  return decodeEventJson(
    `{"timestamp":"2024-05-02T09:15:00.5Z","id":1016,"name":"sched_process_exit","policies":{"matched":["e2e"]},"workload":{"process":{"unique_id":3451234567,"host_pid":23456,"pid":23456,"real_user":{"id":0},"thread":{"name":"${comm}","unique_id":3451234567,"host_tid":23456,"tid":23456}}},"data":[{"name":"exit_code","int32":0},{"name":"signal_code","int32":0},{"name":"process_group_exit","bool":true}]}`,
  );
}

/** The detection: no data and no threat (Tracee's definition has none to copy), the exit in detected_from. */
const EXPECTED = `{"timestamp":"2024-05-02T09:15:00.5Z","id":7500,"name":"WRITABLE_DATA_STORE","policies":{"matched":["e2e"]},"workload":{"process":{"unique_id":3451234567,"host_pid":23456,"pid":23456,"real_user":{"id":0},"thread":{"name":"ds_writer","unique_id":3451234567,"host_tid":23456,"tid":23456}}},"detected_from":{"id":1016,"name":"sched_process_exit","data":[{"name":"exit_code","int32":0},{"name":"signal_code","int32":0},{"name":"process_group_exit","bool":true}]}}`;

describe("WRITABLE_DATA_STORE", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("fires on ds_writer's exit once bruh holds moment, and only then", async () => {
    const ds = new E2eWritableDataSource();
    h = await DetectorHarness.create(createWritableDataStore(), { dataSources: [ds] });
    expect(await h.json(exit("ds_writer"))).toEqual([]); // nothing written yet
    write(ds, { bruh: "not yet" });
    expect(await h.json(exit("ds_writer"))).toEqual([]);
    write(ds, { bruh: "moment" });
    expect(await h.json(exit("ds_writer"))).toEqual([EXPECTED]);
    expect(await h.json(exit("bash"))).toEqual([]); // someone else's exit
    expect(h.stats().participants["WRITABLE_DATA_STORE"]).toMatchObject({ processed: 4, produced: 1, errors: 0 });
  });

  it("cannot start without its data source", async () => {
    await expect(DetectorHarness.create(createWritableDataStore())).rejects.toThrow(/e2e_inst\/demo/);
  });
});
