/**
 * The folder as `tracee-ds run --detectors examples/detectors/index.ts`
 * loads it: every detector registers beside the others, with its data
 * source and datastore, and each fires on its own events only.
 */
import { ipReputationStore, isDataSource, isWritable, isWritableStore } from "tracee-ds";
import { buildEvent, DetectorHarness } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";
import defaultExport, { dataSources, dataStores, detectors, E2eWritableDataSource, e2eWritableDataSource, ipReputation } from "./index.js";

describe("examples/detectors", () => {
  it("exports the detectors (also as default), and the writable data source and datastore --serve hosts", () => {
    expect(defaultExport).toBe(detectors);
    expect(detectors.map((d) => d.definition.id)).toEqual(["TRC-102", "TRC-1013", "TRC-1022", "WRITABLE_DATA_STORE", "IP_REPUTATION_CONNECTION"]);
    expect(dataSources).toEqual([e2eWritableDataSource]);
    expect(isDataSource(e2eWritableDataSource) && isWritable(e2eWritableDataSource)).toBe(true);
    expect(dataStores).toEqual([ipReputation]);
    expect(isWritableStore(ipReputation) && ipReputation.name).toBe("ip_reputation");
  });

  it("all register together; produced events get ids from 7500 in that order", async () => {
    const ds = new E2eWritableDataSource();
    ds.write(new Map([["bruh", "moment"]]));
    const reputation = ipReputationStore();
    reputation.write("threat-feed", { key: "10.0.0.1", data: { status: "deny", severity: 3, tags: [], metadata: {} } });
    const h = await DetectorHarness.create([...detectors], { dataSources: [ds], dataStores: [reputation] });
    expect(h.engine.list().map((p) => [p.id, p.events, p.produces, p.dataSources, p.dataStores])).toEqual([
      ["TRC-102", ["ptrace"], ["anti_debugging"], [], undefined],
      ["TRC-1013", ["sched_process_exec", "security_socket_connect"], ["k8s_api_connection"], [], undefined],
      ["TRC-1022", ["magic_write"], ["dropped_executable"], [], undefined],
      ["WRITABLE_DATA_STORE", ["sched_process_exit"], ["WRITABLE_DATA_STORE"], ["e2e_inst/demo"], undefined],
      ["IP_REPUTATION_CONNECTION", ["security_socket_connect"], ["ip_reputation_connection"], [], ["ip_reputation"]],
    ]);
    const container = { id: "c1" };
    const outputs = await h.feed(
      buildEvent("ptrace", { data: { request: 0n } }),
      buildEvent("sched_process_exec", { container, data: { env: ["KUBERNETES_SERVICE_HOST=10.0.0.1"] } }),
      buildEvent("security_socket_connect", {
        container,
        data: [{ name: "remote_addr", sockaddr: { saFamily: 2, sinAddr: "10.0.0.1", sinPort: 443, sunPath: "", sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 } }],
      }),
      buildEvent("magic_write", { container, data: { pathname: "/bin/x", bytes: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46]) } }),
      buildEvent("sched_process_exit", { process: { comm: "ds_writer" } }),
      buildEvent("openat"),
    );
    expect(outputs.map((e) => [e.id, e.name])).toEqual([
      [7500, "anti_debugging"],
      [7501, "k8s_api_connection"],
      [7504, "ip_reputation_connection"],
      [7502, "dropped_executable"],
      [7503, "WRITABLE_DATA_STORE"],
    ]);
    await h.close();
  });
});
