/**
 * DetectorHarness with datastores: a seeded fake store is what the detector
 * reads, writes between feeds change what it sees, a registry is used as it
 * is, and a missing required store rejects `create`.
 */
import { DataStoreRegistry } from "tracee-ds";
import { defineDetector, detectedWithData, isEngineRegistrationError, storeRef } from "tracee-ds/engine";
import { newStringValue } from "tracee-ds/events";
import { buildEvent, DetectorHarness, type FakeDataStore, fakeDataStore } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";

const Blocked = storeRef<FakeDataStore<string, string>>("blocked_comms");

/** Fires on `sched_process_exec` when the process name is in the `blocked_comms` store, with the reason stored. */
function blockedComm() {
  let store: FakeDataStore<string, string> | undefined;
  return defineDetector({
    definition: {
      id: "blocked-comm",
      requirements: { events: [{ name: "sched_process_exec" }], dataStores: [{ name: "blocked_comms" }] },
      producedEvent: { name: "blocked_comm" },
    },
    init(params) {
      store = params.dataStores.get(Blocked);
    },
    onEvent(event) {
      const reason = store?.get(event.workload?.process?.thread?.name ?? "");
      return reason === undefined ? undefined : detectedWithData([newStringValue("reason", reason)]);
    },
  });
}

const exec = (comm: string) => buildEvent("sched_process_exec", { process: { comm } });

describe("DetectorHarness with dataStores", () => {
  it("detectors read a seeded fake store; writes between feeds change what they see", async () => {
    const store = fakeDataStore<string, string>({ name: "blocked_comms", entries: { policy: [{ key: "nc", data: "netcat" }] } });
    const h = await DetectorHarness.create(blockedComm(), { dataStores: [store] });
    expect(h.engine.dataStores.get("blocked_comms")).toBe(store);
    expect((await h.feed(exec("nc"), exec("ls"))).map((e) => e.data[0]?.str)).toEqual(["netcat"]);
    store.write("ops", { key: "ls", data: "listing" });
    store.delete("policy", "nc");
    expect((await h.feed(exec("nc"), exec("ls"))).map((e) => e.data[0]?.str)).toEqual(["listing"]);
    expect(store.gets.map((c) => c.key)).toEqual(["nc", "ls", "nc", "ls"]);
    await h.close();
  });

  it("a registry is used as it is", async () => {
    const registry = new DataStoreRegistry([fakeDataStore({ name: "blocked_comms" })]);
    const h = await DetectorHarness.create(blockedComm(), { dataStores: registry });
    expect(h.engine.dataStores).toBe(registry);
    await h.close();
  });

  it("a missing required store rejects create, naming detector and store", async () => {
    const err = await DetectorHarness.create(blockedComm()).catch((e: unknown) => e as Error);
    expect(isEngineRegistrationError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^blocked-comm: requires the datastore "blocked_comms"/);
  });

  it("a store a detector registers in init lands in engine.dataStores, for the test to write", async () => {
    const owner = defineDetector({
      definition: { id: "owner", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "owned" } },
      init: (params) => void params.dataStores.register(fakeDataStore<string, string>({ name: "blocked_comms" })),
      onEvent: () => undefined,
    });
    const h = await DetectorHarness.create([blockedComm(), owner]);
    const store = h.engine.dataStores.getWritable("blocked_comms");
    await store?.write("test", { key: "sh", data: "shell" });
    expect((await h.feed(exec("sh"))).map((e) => [e.id, e.data[0]?.str])).toEqual([[7500, "shell"]]);
    await h.close();
  });
});
