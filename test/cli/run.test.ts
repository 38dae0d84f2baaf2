/**
 * `tracee-ds run` as a shell runs it: the built bin against files, stdin and
 * a fake Tracee; detectors modules in ESM, CJS and TypeScript; data sources
 * served and written while it runs; reloads; signals; metrics.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeEventJson, encodeEventJson, type TraceeEvent } from "tracee-ds/events";
import { buildEvent, DetectorHarness, type FakeTracee, fakeTracee } from "tracee-ds/testing";
import { dataSources as portedDataSources, detectors as portedDetectors } from "../../examples/detectors/index.js";
import { killCliChildren, requireBuiltCli, root, startCli } from "../support/cli.js";

const fixture = readFileSync(join(root, "test/fixtures/events/v1beta1.ndjson"), "utf8");
const fixtureEvents = fixture
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => decodeEventJson(l));

let dir: string;
let tracees: FakeTracee[] = [];

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-run-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  killCliChildren();
  await Promise.all(tracees.splice(0).map((t) => t.close()));
});

/** Writes `text` to `name` in the test's directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A detector module's source: plain objects fit the detector contract, no import needed. */
const execDetector = (id = "exec", produced = "exec_seen", extra = "") => `{
  definition: { id: ${JSON.stringify(id)}, requirements: { events: [{ name: "sched_process_exec" }] }, producedEvent: { name: ${JSON.stringify(produced)} }, autoPopulate: { detectedFrom: true } },
  onEvent: () => [{}],${extra}
}`;

const lines = (text: string) => text.split("\n").filter((l) => l !== "");
const execs = fixtureEvents.filter((e) => e.name === "sched_process_exec");

/** What Tracee emits for a detector with detectedFrom on `input`: id 7500, the input's timestamp, workload and policies. */
function expectedDetection(input: TraceeEvent, name: string): string {
  return encodeEventJson({
    timestamp: input.timestamp,
    id: 7500 as TraceeEvent["id"],
    name,
    policies: input.policies,
    workload: input.workload,
    data: [],
    threat: undefined,
    detectedFrom: { id: input.id, name: input.name, data: input.data, parent: input.detectedFrom },
  });
}

describe("tracee-ds run: detectors modules", () => {
  it("runs an ESM module on a file and prints Tracee's JSON for each detection, then exits 0", async () => {
    const module = file("exec.mjs", `export const exec = ${execDetector()};\n`);
    const r = await startCli(["run", "--detectors", module, "--input", "json:test/fixtures/events/v1beta1.ndjson"]).done;
    expect(r.code).toBe(0);
    expect(execs.length).toBeGreaterThan(0);
    expect(lines(r.stdout)).toEqual(execs.map((e) => expectedDetection(e, "exec_seen")));
    expect(r.stderr).toContain(`end of input: ${fixtureEvents.length} events (input dropped 0), ${execs.length} events written`);
  });

  it("loads CommonJS and TypeScript modules and directories of them; --output-all passes the input through", async () => {
    const sub = join(dir, "mixed");
    rmSync(sub, { recursive: true, force: true });
    mkdirSync(sub);
    writeFileSync(join(sub, "a.cjs"), `module.exports = { detectors: [${execDetector("cjs", "cjs_seen")}] };\n`);
    writeFileSync(
      join(sub, "b.ts"),
      `interface Out { readonly data?: readonly unknown[] }\nconst out: Out[] = [{}];\nexport default ${execDetector("ts", "ts_seen").replace("() => [{}]", "(): Out[] => out")};\n`,
    );
    writeFileSync(join(sub, "b.test.ts"), "throw new Error('a test file is not loaded');\n");
    const r = await startCli(["run", "--detectors", sub, "--input", "json:-", "--output-all"], { input: fixture }).done;
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const out = lines(r.stdout).map((l) => decodeEventJson(l));
    // Each input, then its detections, in registration order (files by name).
    const expected = fixtureEvents.flatMap((e) => (e.name === "sched_process_exec" ? [e.name, "cjs_seen", "ts_seen"] : [e.name]));
    expect(out.map((e) => e.name)).toEqual(expected);
    expect(out.filter((e) => e.name === "ts_seen").map((e) => e.id)).toEqual(execs.map(() => 7501));
  });

  it("--list prints what runs and what to select in Tracee's policy, without running", async () => {
    const module = file(
      "list.mjs",
      `export const detectors = [${execDetector()}, {
        definition: { id: "chained", requirements: { events: [{ name: "exec_seen" }, { name: "security_file_open" }], dataSources: [{ namespace: "tracee", id: "process_tree" }] }, producedEvent: { name: "chained_seen" } },
        onEvent: () => undefined,
        init: () => { throw new Error("--list must not init"); },
      }];\n`,
    );
    const r = await startCli(["run", "--detectors", module, "--list"]).done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("detector exec -> exec_seen\n  events: sched_process_exec\n");
    expect(r.stdout).toContain("detector chained -> chained_seen\n  events: exec_seen, security_file_open\n  data sources: tracee/process_tree\n");
    expect(r.stdout).toMatch(/^built-in data source tracee\/process_tree \(learns from: sched_process_fork, /m);
    expect(r.stdout).toContain("select in Tracee's policy: sched_process_exec, security_file_open\n");
  });

  it("refuses what cannot run, naming it", async () => {
    const unknown = file("unknown.mjs", `export default ${execDetector().replace("sched_process_exec", "no_such_event")};\n`);
    const r1 = await startCli(["run", "--detectors", unknown, "--input", "json:-"], { input: "" }).done;
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain('tracee-ds run: exec: requires the event "no_such_event"');

    const empty = file("empty.mjs", "export const answer = 42;\n");
    const r2 = await startCli(["run", "--detectors", empty]).done;
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`--detectors: ${empty} exports no detector, signature or data source`);

    const broken = file("broken.ts", "export const x = ;\n");
    const r3 = await startCli(["run", "--detectors", broken]).done;
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`--detectors: cannot load ${broken}`);

    const r4 = await startCli(["run", "--input", "json:-"]).done;
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("--detectors is required");

    const module = file("ok.mjs", `export default ${execDetector()};\n`);
    const r5 = await startCli(["run", "--detectors", module, "--output", "gotemplate=x"]).done;
    expect(r5.code).toBe(2);
    expect(r5.stderr).toMatch(/--output: output "gotemplate=x"/);
  });

  it("--config hands each detector its settings, YAML or JSON", async () => {
    const module = file(
      "configured.mjs",
      `let threshold;
      export default {
        definition: { id: "cfg", requirements: { events: [{ name: "sched_process_exec" }] }, producedEvent: { name: "cfg_seen" } },
        init: ({ config }) => { threshold = config.getInt("threshold", -1); },
        onEvent: () => [{ data: [{ name: "threshold", int32: threshold }] }],
      };\n`,
    );
    const yaml = file("config.yaml", "detectors:\n  cfg:\n    threshold: 7\n");
    const r = await startCli(["run", "--detectors", module, "--config", yaml, "--input", "json:-"], { input: fixture }).done;
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => JSON.parse(l).data)).toEqual(execs.map(() => [{ name: "threshold", int32: 7 }]));

    const bad = file("bad-config.yaml", "threshold: 7\n");
    const r2 = await startCli(["run", "--detectors", module, "--config", bad, "--input", "json:-"], { input: "" }).done;
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`--config: ${bad}: unknown key "threshold"; the settings go under "detectors", by detector id`);
  });
});

describe("tracee-ds run: beside a live Tracee", () => {
  it("replays Tracee's stream with the ports loaded; detectors that throw, hang or crawl leave their outputs as they are, and metrics show it", async () => {
    const replay = Array.from({ length: 10 }, () => fixture).join("");
    const tracee = await fakeTracee({ events: replay, then: "hold" });
    tracees.push(tracee);
    const troubled = file(
      "troubled.mjs",
      `const detector = (id, onEvent) => ({
        definition: { id, requirements: { events: [{ name: "sched_process_exec" }] }, producedEvent: { name: id + "_out" } },
        onEvent,
      });
      export const detectors = [
        detector("thrower", () => { throw new Error("boom"); }),
        detector("hanger", () => new Promise(() => {})),
        detector("crawler", () => new Promise((resolve) => setTimeout(() => resolve([{}]), 20))),
      ];\n`,
    );
    const running = startCli([
      "run",
      "--detectors",
      "examples/detectors",
      "--detectors",
      troubled,
      "--input",
      `grpc:${tracee.address}`,
      "--metrics",
      "127.0.0.1:0",
      "--timeout",
      "100ms",
      "--detector-queue",
      "4",
    ]);
    const url = (await running.waitFor("stderr", /url=(http:\/\/\S+)/))[1] ?? "";
    const value = (text: string, metric: string) => Number(new RegExp(`^${metric.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    const execCount = execs.length * 10;
    // The hanging and the slow detector: each exec was handled (timed out, or gave an output) or dropped from their queue of 4.
    let text = "";
    for (;;) {
      text = await (await fetch(url)).text();
      const hanger = value(text, 'tracee_ds_detector_timeouts_total{detector="hanger"}') + value(text, 'tracee_ds_detector_events_dropped_total{detector="hanger"}');
      const crawler = value(text, 'tracee_ds_detector_outputs_total{detector="crawler"}') + value(text, 'tracee_ds_detector_events_dropped_total{detector="crawler"}');
      if (hanger === execCount && crawler === execCount) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(value(text, 'tracee_ds_detector_events_dropped_total{detector="hanger"}')).toBeGreaterThan(0);
    expect(value(text, 'tracee_ds_detector_errors_total{detector="thrower"}')).toBe(execCount);
    expect(value(text, 'tracee_ds_input_events_received_total{input="grpc"}')).toBe(fixtureEvents.length * 10);
    tracee.end();
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Tracee ended the stream");
    expect(r.stderr).toMatch(/detector trouble detector=hanger errors=0 timeouts=\d+ dropped=\d+/);

    // The ports' detections are exactly what they give without the troubled detectors.
    const harness = await DetectorHarness.create([...portedDetectors], { dataSources: [...portedDataSources] });
    const alone: string[] = [];
    for (let i = 0; i < 10; i++) alone.push(...(await harness.json(...fixtureEvents)));
    await harness.close();
    expect(alone.length).toBeGreaterThan(0);
    const out = lines(r.stdout);
    expect(out.filter((l) => !/"name":"(thrower|hanger|crawler)_out"/.test(l))).toEqual(alone);
    // The slow one: every exec either gave its output or was dropped from its queue of 4, as the metrics said.
    expect(out.filter((l) => l.includes('"name":"crawler_out"'))).toHaveLength(value(text, 'tracee_ds_detector_outputs_total{detector="crawler"}'));
  });

  it("SIGTERM stops the run cleanly: queued work finishes, signatures get their end signal, exit 0", async () => {
    const tracee = await fakeTracee({ events: fixture, then: "hold" });
    tracees.push(tracee);
    const module = file(
      "signature.mjs",
      `export const signature = {
        seen: 0,
        getMetadata: () => ({ id: "SIG", version: "1", name: "counts execs", eventName: "exec_count", description: "" }),
        getSelectedEvents: () => [{ source: "tracee", name: "sched_process_exec" }],
        init(ctx) { this.ctx = ctx; },
        onEvent(event) { this.seen++; this.last = event; },
        onSignal(signal) {
          if (signal.type === "source-complete") this.ctx.callback({ data: { seen: this.seen }, event: this.last, sigMetadata: this.getMetadata() });
        },
        close() {},
      };
      export const exec = ${execDetector()};\n`,
    );
    const running = startCli(["run", "--detectors", module, "--input", `grpc:${tracee.address}`]);
    // Once every exec was handled (the detector's outputs show it), stop it as a service manager would.
    await running.until(() => lines(running.out.stdout).length === execs.length);
    running.child.kill("SIGTERM");
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("SIGTERM: ");
    const out = lines(r.stdout).map((l) => JSON.parse(l));
    expect(out).toHaveLength(execs.length + 1);
    expect(out.at(-1)).toMatchObject({ name: "exec_count", id: 6000, data: [{ name: "seen", int64: String(execs.length) }] });
  });
});

describe("tracee-ds run: data sources while running", () => {
  it("a data source served with --serve and changed by tracee-ds write changes the next detections", async () => {
    const module = file(
      "bruh.mjs",
      `const store = new Map();
      export const kv = {
        get(key) { const v = store.get(key); if (v === undefined) throw Object.assign(new Error("not found"), { code: "ErrDataNotFound" }); return { value: v }; },
        version: () => 1, keys: () => ["string"], values: () => ["string"], schema: () => '{"type":"string"}',
        namespace: () => "e2e", id: () => "bruh_store",
        write(entries) { for (const [k, v] of entries) store.set(String(k), String(v)); },
      };
      export const detector = {
        definition: { id: "bruh", requirements: { events: [{ name: "sched_process_exec" }], dataSources: [{ namespace: "e2e", id: "bruh_store" }] }, producedEvent: { name: "bruh_check" } },
        init({ getDataSource }) { this.ds = getDataSource("e2e", "bruh_store"); },
        onEvent() {
          let value = "";
          try { value = this.ds.get("bruh").value; } catch {}
          return [{ data: [{ name: "bruh", str: value }] }];
        },
      };\n`,
    );
    const socket = join(dir, "ds.sock");
    const running = startCli(["run", "--detectors", module, "--input", "json:-", "--serve", `unix://${socket}`]);
    await running.waitFor("stderr", /serving data sources/);
    const exec = `${encodeEventJson(buildEvent("sched_process_exec"))}\n`;
    const seen = () => lines(running.out.stdout).map((l) => JSON.parse(l).data[0].str as string);
    running.child.stdin.write(exec);
    await running.until(() => seen().length === 1);
    const write = await startCli(["write", "--address", `unix://${socket}`, "--namespace", "e2e", "--id", "bruh_store", "--key", "bruh", "--value", '"moment"']).done;
    expect(write.stderr).toBe("");
    expect(write.code).toBe(0);
    running.child.stdin.write(exec);
    await running.until(() => seen().length === 2);
    running.child.stdin.end();
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(seen()).toEqual(["", "moment"]);
    expect(r.stderr).toContain("end of input: 2 events");
  });
});

describe("tracee-ds run --watch", () => {
  it("swaps in an edited module, keeps the old one when the edit is broken, and loses no event", async () => {
    const path = file("watched.mjs", `export default ${execDetector("w", "w_out", "\n  version: 1,").replace("() => [{}]", "() => [{ data: [{ name: 'v', int32: 1 }] }]")};\n`);
    const running = startCli(["run", "--detectors", path, "--input", "json:-", "--watch"]);
    await running.waitFor("stderr", /watching for changes/);
    const exec = `${encodeEventJson(buildEvent("sched_process_exec"))}\n`;
    const outputs = () => lines(running.out.stdout).map((l) => JSON.parse(l).data[0].int32 as number);
    const feed = async (n: number) => {
      const before = outputs().length;
      for (let i = 0; i < n; i++) running.child.stdin.write(exec);
      await running.until(() => outputs().length === before + n);
    };
    await feed(3);
    writeFileSync(path, `export default ${execDetector("w", "w_out").replace("() => [{}]", "() => [{ data: [{ name: 'v', int32: 2 }] }]")};\n`);
    await running.waitFor("stderr", /INFO reloaded/);
    await feed(3);
    const reloads = running.out.stderr.length;
    writeFileSync(path, "export default {{ broken\n");
    await running.waitFor("stderr", /ERROR reload failed; the running detectors stay/, reloads);
    await feed(3);
    running.child.stdin.end();
    const r = await running.done;
    expect(r.code).toBe(0);
    expect(outputs()).toEqual([1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect(r.stderr).toContain("end of input: 9 events");
  });
});
