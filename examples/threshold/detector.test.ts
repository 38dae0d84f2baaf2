/**
 * The threshold detector in a DetectorHarness, case for case with the
 * signature's tests (threshold.test.ts), and against the signature itself
 * run by the engine on the same events.
 */
import { Engine } from "tracee-ds/engine";
import { decodeEventJson, eventData, type TraceeEvent } from "tracee-ds/events";
import { buildEvent, DetectorHarness, fakeDataSource, fakeWritableDataSource } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createExcessiveFileOpens, excessiveFileOpens, thresholdDataSource } from "./detector.js";
import { ExcessiveFileOpens } from "./signature.js";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE, ThresholdDataSource } from "./threshold-datasource.js";
import { createThresholdDataSource } from "./threshold-typed.js";
import { WORKLOAD } from "./workload.js";

const thresholdOf = (threshold: number, version = 1) =>
  fakeDataSource({ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID, version, data: { threshold: { threshold } } });

const open = (pid: number, name = `p${pid}`, file = "/etc/hosts") =>
  buildEvent("security_file_open", { process: { pid, comm: name }, data: { pathname: file, flags: 0 } });
const exit = (pid: number) => buildEvent("sched_process_exit", { process: { pid, comm: `p${pid}` }, data: { exit_code: 0 } });
const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);

describe("ExcessiveFileOpens detector", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("prints a detection as Tracee would", async () => {
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [thresholdOf(2)] });
    const xmrigOpen = (n: number) =>
      decodeEventJson(
        `{"timestamp":"2024-01-01T00:00:0${n}Z","id":1032,"name":"security_file_open","policies":{"matched":["default"]},"workload":{"process":{"host_pid":303,"pid":303,"thread":{"name":"xmrig","host_tid":303,"tid":303}}},"data":[{"name":"pathname","str":"/var/lib/xmrig/file-${n}"},{"name":"flags","int32":0}]}`,
      );
    expect(await h.json(xmrigOpen(1), xmrigOpen(2))).toEqual([]);
    expect(await h.json(xmrigOpen(3))).toEqual([
      `{"timestamp":"2024-01-01T00:00:03Z","id":7500,"name":"excessive_file_opens","policies":{"matched":["default"]},"workload":{"process":{"host_pid":303,"pid":303,"thread":{"name":"xmrig","host_tid":303,"tid":303}}},"data":[{"name":"processName","str":"xmrig"},{"name":"pid","int64":"303"},{"name":"opens","int64":"3"},{"name":"threshold","int64":"2"}],"threat":{"description":"A process opened more files than the configured threshold.","severity":2,"name":"Excessive file opens"},"detected_from":{"id":1032,"name":"security_file_open","data":[{"name":"pathname","str":"/var/lib/xmrig/file-3"},{"name":"flags","int32":0}]}}`,
    ]);
  });

  it("reports nothing below or at the threshold", async () => {
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [thresholdOf(5)] });
    expect(await h.feed(...times(4, () => open(1)), ...times(5, () => open(2)))).toEqual([]);
  });

  it("reports a process once when it goes above the threshold, reading the threshold on every open", async () => {
    const threshold = thresholdOf(5);
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [threshold] });
    const found = await h.feed(...times(6, () => open(3)));
    expect(await h.feed(...times(10, () => open(3)))).toEqual([]);
    expect(found.map(eventData)).toEqual([{ processName: "p3", pid: 3n, opens: 6n, threshold: 5n }]);
    expect(threshold.gets).toHaveLength(16);
  });

  it("follows a threshold written between feeds", async () => {
    const threshold = fakeWritableDataSource({ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID, data: { threshold: { threshold: 5 } } });
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [threshold] });
    await h.feed(open(4), open(4));
    threshold.write(new Map([["threshold", { threshold: 2 }]]));
    expect((await h.feed(open(4))).map((e) => eventData(e)["threshold"])).toEqual([2n]);
  });

  it("follows the real data source, and the typed one", async () => {
    const ds = new ThresholdDataSource();
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [ds] });
    ds.write(new Map([["threshold", 2]]));
    expect((await h.feed(open(4), open(4), open(4))).map((e) => eventData(e)["threshold"])).toEqual([2n]);
    await h.close();
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [createThresholdDataSource(2)] });
    expect((await h.feed(open(4), open(4), open(4))).map((e) => eventData(e)["threshold"])).toEqual([2n]);
  });

  it("forgets a process when it exits", async () => {
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [thresholdOf(1)] });
    expect(await h.feed(open(5), open(5), exit(5), open(5), open(5))).toHaveLength(2);
  });

  it("a threshold that is not a number is an error the engine logs and counts", async () => {
    const bad = fakeDataSource({ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID, data: { threshold: { threshold: "five" } } });
    h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [bad] });
    expect(await h.feed(open(6))).toEqual([]);
    expect(h.stats().participants["TRC-DS-1"]).toMatchObject({ errors: 1 });
  });

  it("cannot start without the data source, or with a newer version", async () => {
    await expect(DetectorHarness.create(createExcessiveFileOpens())).rejects.toThrow(/my_namespace\/threshold_datasource/);
    await expect(DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [thresholdOf(5, 2)] })).rejects.toThrow(
      /version not supported/,
    );
  });

  it("exports one detector and the data source for --detectors", () => {
    expect(excessiveFileOpens.definition.id).toBe("TRC-DS-1");
    expect([thresholdDataSource.namespace(), thresholdDataSource.id()]).toEqual([THRESHOLD_NAMESPACE, THRESHOLD_ID]);
  });
});

describe("the detector and the signature", () => {
  /** The example's synthetic workload as Tracee events: every file open, then every exit. */
  const workload = (): TraceeEvent[] => [
    ...WORKLOAD.flatMap((p) => times(p.opens, () => open(p.pid, p.name, `/var/lib/${p.name}/file`))),
    ...WORKLOAD.map((p) => exit(p.pid)),
  ];

  it("report the same processes with the same data", async () => {
    const ds = new ThresholdDataSource();
    ds.write(new Map([["threshold", 5]]));

    const h = await DetectorHarness.create(createExcessiveFileOpens(), { dataSources: [ds] });
    const fromDetector = await h.feed(...workload());
    await h.close();

    const engine = new Engine();
    engine.addDataSource(ds);
    engine.addSignature(new ExcessiveFileOpens());
    const fromSignature: TraceeEvent[] = [];
    await engine.run(
      (async function* () {
        yield* workload();
      })(),
      { outputs: [{ write: (e) => void fromSignature.push(e) }] },
    );

    const summary = (events: TraceeEvent[]) => events.map((e) => ({ name: e.name, data: e.data, from: e.detectedFrom?.name }));
    expect(summary(fromDetector)).toEqual(summary(fromSignature));
    expect(fromDetector.map((e) => eventData(e)["processName"])).toEqual(["backup.sh", "xmrig"]);
  });
});

