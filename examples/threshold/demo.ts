/**
 * `npm start`: the threshold example end to end, over real gRPC, in a live
 * detection run.
 *
 * Registers the threshold data source, serves it on a unix socket in a temp
 * directory, and runs the threshold detector (detector.ts) in the engine on
 * a synthetic workload of Tracee events, round after round, in one run.
 * Between rounds it changes the threshold from outside, through the server,
 * with `DataSourceClient`, exactly as `write-threshold.ts`, `tracee-ds write`
 * or Tracee's own client would, and the next round's detections change. It
 * removes the socket and exits by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue } from "type-fest";
import { DataSourceRegistry } from "tracee-ds";
import { Engine } from "tracee-ds/engine";
import { getData, getProcessHostPid, type TraceeEvent } from "tracee-ds/events";
import { DataSourceClient, isDataSourceClientError, serveDataSources } from "tracee-ds/grpc";
import { buildEvent } from "tracee-ds/testing";
import { createExcessiveFileOpens } from "./detector.js";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE, ThresholdDataSource } from "./threshold-datasource.js";
import { type SyntheticProcess, WORKLOAD } from "./workload.js";

const print = (line = "") => process.stdout.write(`${line}\n`);

/** The events Tracee would send for `processes`: their file opens, then their exits. */
function* traceeEvents(processes: readonly SyntheticProcess[]): Generator<TraceeEvent> {
  for (const p of processes) {
    for (let i = 0; i < p.opens; i++) {
      const pathname = `/var/lib/${p.name}/file-${i}`;
      yield buildEvent("security_file_open", { process: { pid: p.pid, comm: p.name }, data: { pathname, flags: "O_RDONLY" } });
    }
  }
  for (const p of processes) yield buildEvent("sched_process_exit", { process: { pid: p.pid, comm: p.name } });
}

async function main(): Promise<void> {
  const registry = new DataSourceRegistry();
  const thresholdDs = new ThresholdDataSource();
  registry.register(thresholdDs);
  const detector = createExcessiveFileOpens();
  const engine = new Engine({ dataSources: registry, streamDataSources: [] });
  engine.addDetector(detector);

  const dir = mkdtempSync(join(tmpdir(), "tracee-ds-demo-"));
  const server = await serveDataSources(registry, { address: `unix://${join(dir, "tracee-ds.sock")}` });
  const client = new DataSourceClient(server.address, { deadlineMs: 10_000 });

  // What Tracee's WriteDataSourceRequest carries: a namespace, an id, and a
  // google.protobuf.Value key and value. The run is live while it lands.
  const write = async (value: JsonValue) => {
    print();
    print(`gRPC Write ${THRESHOLD_NAMESPACE}/${THRESHOLD_ID} threshold=${JSON.stringify(value)}`);
    try {
      await client.write({ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID, key: "threshold", value });
      print(`  OK`);
    } catch (err) {
      if (!isDataSourceClientError(err)) throw err;
      print(`  refused: ${err.codeName}: ${err.details}`);
    }
  };

  const detections: TraceeEvent[] = [];
  const report = async (title: string) => {
    // Everything fed so far is handled once the engine is idle.
    await engine.idle();
    const { threshold } = thresholdDs.get("threshold");
    print();
    print(`${title}: threshold ${threshold}`);
    for (const p of WORKLOAD) {
      const found = detections.find((e) => getProcessHostPid(e) === p.pid);
      const verdict =
        found === undefined
          ? "ok"
          : `DETECTION ${found.name} (${found.threat?.name}: ${String(getData(found, "opens", "int64"))} opens, more than ${String(getData(found, "threshold", "int64"))})`;
      print(`  ${p.name.padEnd(10)} pid ${String(p.pid).padEnd(4)} ${String(p.opens).padStart(3)} opens  ${verdict}`);
    }
    print(`  => ${detections.length} detection${detections.length === 1 ? "" : "s"}`);
    detections.length = 0;
  };

  // The live input: each round's workload, with the writes and reports in between.
  async function* live(): AsyncGenerator<TraceeEvent> {
    await write(5);
    yield* traceeEvents(WORKLOAD);
    await report("round 1");
    await write(10);
    yield* traceeEvents(WORKLOAD);
    await report("round 2");
    await write("ten");
    yield* traceeEvents(WORKLOAD);
    await report("round 3");
  }

  try {
    const meta = detector.definition;
    print(`tracee-ds threshold demo`);
    print(`  data source  ${THRESHOLD_NAMESPACE}/${THRESHOLD_ID} v${thresholdDs.version()} (values: ${thresholdDs.values().join(", ")})`);
    print(`  detector     ${meta.id} -> ${meta.producedEvent.name}`);
    print(`  gRPC server  ${server.address}`);
    const stats = await engine.run(live(), { outputs: [{ write: (event) => void detections.push(event) }] });
    print();
    print(`run ended: ${stats.events} events, ${stats.written} detections, ${stats.participants[meta.id]?.errors ?? 0} errors`);
  } finally {
    client.close();
    await server.close({ graceMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
