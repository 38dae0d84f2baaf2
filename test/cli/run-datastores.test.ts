/**
 * `tracee-ds run` and datastores, in process: a `--detectors` module's
 * exported writable stores are registered in the engine (a detector
 * requiring one runs), `--list` shows them, and what cannot be registered is
 * a usage error naming the store.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventJson } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import { runCommand } from "../../src/cli/commands/run.js";
import { loadDetectionModules } from "../../src/cli/detectors-module.js";
import { root } from "../support/cli.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-run-stores-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `tracee-ds run ...args` in process; resolves with the exit code and what it printed. */
async function run(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const input = new PassThrough();
  input.end(stdin);
  const code = await runCommand(args.slice(1), { stdin: input, stdout, stderr, cwd: root, waitForStop: () => new Promise(() => undefined) });
  return { code, stdout: out, stderr: err };
}

/** A writable store as plain JavaScript: \`store(name)\` (holds nothing; enough for loading). */
const plainStore = `(name) => ({
  name,
  size: 0,
  keyType: { typeName: "google.protobuf.Value", encode: () => new Uint8Array(), decode: () => null },
  dataType: { typeName: "google.protobuf.Value", encode: () => new Uint8Array(), decode: () => null },
  get: () => undefined,
  write() {},
  writeBatch: () => 0,
  delete: () => false,
  clear: () => 0,
  listSources: () => [],
})`;

/** A module exporting a fake store seeded with `nc`, and a detector requiring it that fires on blocked names. */
const storeModule = (storeName = "blocked_comms") => `
import { fakeDataStore } from ${JSON.stringify(join(root, "src/testing/index.ts"))};
export const store = fakeDataStore({ name: ${JSON.stringify(storeName)}, entries: { policy: [{ key: "nc", data: "netcat" }] } });
let blocked;
export const detector = {
  definition: {
    id: "blocked",
    requirements: { events: [{ name: "sched_process_exec" }], dataStores: [{ name: "blocked_comms" }] },
    producedEvent: { name: "blocked_comm" },
  },
  init(params) { blocked = params.dataStores.get("blocked_comms"); },
  onEvent(event) {
    const reason = blocked.get(event.workload?.process?.thread?.name ?? "");
    return reason === undefined ? undefined : [{ data: [{ name: "reason", str: reason }] }];
  },
};
`;

describe("tracee-ds run: datastores from --detectors modules", () => {
  it("loads exported writable stores beside detectors, also from a default-exported object", async () => {
    const named = await loadDetectionModules([file("named.mjs", storeModule())], dir);
    expect(named.dataStores.map((s) => s.name)).toEqual(["blocked_comms"]);
    expect(named.detectors.map((d) => d.definition.id)).toEqual(["blocked"]);
    const only = await loadDetectionModules([file("plain.cjs", `const store = ${plainStore};\nmodule.exports = { a: store("a"), list: [store("b")] };\n`)], dir);
    expect(only.dataStores.map((s) => s.name)).toEqual(["a", "b"]);
    // A store exported as the default export is the store, not an object to spread.
    const single = await loadDetectionModules([file("default.mjs", `${storeModule().replace("export const store =", "export default")}`)], dir);
    expect(single.dataStores.map((s) => s.name)).toEqual(["blocked_comms"]);
  });

  it("registers them in the engine: the detector requiring one runs on what it holds", async () => {
    const module = file("run.mjs", storeModule());
    const events = [buildEvent("sched_process_exec", { process: { comm: "nc" } }), buildEvent("sched_process_exec", { process: { comm: "ls" } })];
    const r = await run(["run", "--detectors", module, "--input", "json:-"], events.map((e) => `${encodeEventJson(e)}\n`).join(""));
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const out = r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { name: string; data: unknown });
    expect(out.map((e) => [e.name, e.data])).toEqual([["blocked_comm", [{ name: "reason", str: "netcat" }]]]);
  });

  it("--list shows the stores and what each detector requires", async () => {
    const r = await run(["run", "--detectors", file("list.mjs", storeModule()), "--list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("detector blocked -> blocked_comm\n  events: sched_process_exec\n  datastores: blocked_comms\n");
    expect(r.stdout).toContain("datastore blocked_comms (key google.protobuf.Value, data google.protobuf.Value)\n");
  });

  it("examples/detectors hosts the ip_reputation store IP_REPUTATION_CONNECTION requires", async () => {
    const r = await run(["run", "--detectors", "examples/detectors", "--list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("detector IP_REPUTATION_CONNECTION -> ip_reputation_connection\n  events: security_socket_connect\n  datastores: ip_reputation\n");
    expect(r.stdout).toContain("datastore ip_reputation (key tracee.v1beta1.datastores.IPAddressKey, data tracee.v1beta1.datastores.IPReputation)\n");
  });

  it("a store name that cannot be registered is a usage error naming it; a missing required store refuses the run", async () => {
    await expect(run(["run", "--detectors", file("badname.mjs", storeModule("has space")), "--input", "json:-"])).rejects.toThrow(
      /--detectors: a store name is letters, digits, "_", "." and "-"; got "has space"/,
    );
    const twice = file("twice.mjs", `${storeModule()}\nexport const again = fakeDataStore({ name: "blocked_comms" });\n`);
    await expect(run(["run", "--detectors", twice, "--input", "json:-"])).rejects.toThrow(/--detectors: a store named "blocked_comms" is already registered/);
    const missing = await run(["run", "--detectors", file("missing.mjs", storeModule("other")), "--input", "json:-"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`tracee-ds run: blocked: requires the datastore "blocked_comms", which is not registered`);
  });
});
