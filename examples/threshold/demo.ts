/**
 * `npm start`: the threshold example end to end, over real gRPC.
 *
 * Registers the threshold data source, serves it on a unix socket in a temp
 * directory, loads the signature and runs a synthetic workload; between
 * rounds it changes the threshold from outside, through the server, with
 * `DataSourceClient`, exactly as `write-threshold.ts` (or Tracee's own
 * client) would. It removes the socket and exits by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonValue } from "type-fest";
import { DataSourceRegistry, type Finding } from "tracee-ds";
import { DataSourceClient, isDataSourceClientError, serveDataSources } from "tracee-ds/grpc";
import { ExcessiveFileOpens } from "./signature.js";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE, ThresholdDataSource } from "./threshold-datasource.js";
import { WORKLOAD, workloadEvents } from "./workload.js";

const print = (line = "") => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const registry = new DataSourceRegistry();
  const thresholdDs = new ThresholdDataSource();
  registry.register(thresholdDs);

  const findings: Finding[] = [];
  const signature = new ExcessiveFileOpens();
  await signature.init(registry.context({ callback: (f) => findings.push(f) }));
  const meta = signature.getMetadata();

  const dir = mkdtempSync(join(tmpdir(), "tracee-ds-demo-"));
  const server = await serveDataSources(registry, { address: `unix://${join(dir, "tracee-ds.sock")}` });
  const client = new DataSourceClient(server.address, { deadlineMs: 10_000 });

  try {
    print(`tracee-ds threshold demo`);
    print(`  data source  ${THRESHOLD_NAMESPACE}/${THRESHOLD_ID} v${thresholdDs.version()} (values: ${thresholdDs.values().join(", ")})`);
    print(`  signature    ${meta.id} "${meta.name}"`);
    print(`  gRPC server  ${server.address}`);

    const round = async (title: string) => {
      findings.length = 0;
      for (const event of workloadEvents(WORKLOAD)) await signature.onEvent(event);
      const { threshold } = thresholdDs.get("threshold");
      print();
      print(`${title}: threshold ${threshold}`);
      for (const p of WORKLOAD) {
        const finding = findings.find((f) => f.data["pid"] === p.pid);
        const verdict = finding ? `FINDING  (${meta.name}: more than ${String(finding.data["threshold"])})` : "ok";
        print(`  ${p.name.padEnd(10)} pid ${String(p.pid).padEnd(4)} ${String(p.opens).padStart(3)} opens  ${verdict}`);
      }
      print(`  => ${findings.length} finding${findings.length === 1 ? "" : "s"}`);
    };

    // What Tracee's WriteDataSourceRequest carries: a namespace, an id, and a
    // google.protobuf.Value key and value.
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

    await write(5);
    await round("round 1");
    await write(10);
    await round("round 2");
    await write("ten");
    await round("round 3");
  } finally {
    signature.close();
    client.close();
    await server.close({ graceMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
