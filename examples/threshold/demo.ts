/**
 * `npm start`: the threshold example end to end.
 *
 * Registers the threshold data source, loads the signature, runs a synthetic
 * workload, changes the threshold from outside, and runs it again, printing
 * which processes were reported each time.
 */
import { DataSourceRegistry, type Finding } from "tracee-ds";
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
  print(`tracee-ds threshold demo`);
  print(`  data source  ${THRESHOLD_NAMESPACE}/${THRESHOLD_ID} v${thresholdDs.version()} (values: ${thresholdDs.values().join(", ")})`);
  print(`  signature    ${meta.id} "${meta.name}"`);

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

  const write = async (value: unknown) => {
    print();
    print(`write ${THRESHOLD_NAMESPACE}/${THRESHOLD_ID} threshold=${JSON.stringify(value)}`);
    try {
      await thresholdDs.write(new Map([["threshold", value as number]]));
      print(`  accepted`);
    } catch (err) {
      print(`  refused: ${(err as Error).message}`);
    }
  };

  await write(5);
  await round("round 1");
  await write(10);
  await round("round 2");
  await write("ten");
  await round("round 3");
  signature.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
