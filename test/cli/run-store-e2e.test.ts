/**
 * The datastore loop end to end, as a shell runs it: `tracee-ds run` hosts the
 * example detectors (and their `ip_reputation` store) with `--serve`; `tracee-ds
 * store write` and `store delete`, run while it runs, change the next detection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeEventJson, encodeEventJson } from "tracee-ds/events";
import { killCliChildren, requireBuiltCli, startCli } from "../support/cli.js";

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-store-e2e-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killCliChildren());

/** curl connecting to 203.0.113.7:443, as Tracee prints the event. */
const connect = encodeEventJson(
  decodeEventJson(
    `{"timestamp":"2025-12-16T10:30:45.123Z","id":1036,"name":"security_socket_connect","policies":{"matched":["default"]},` +
      `"workload":{"process":{"executable":{"path":"/usr/bin/curl"},"pid":4242,"thread":{"name":"curl"}}},` +
      `"data":[{"name":"sockfd","int32":3},{"name":"remote_addr","sockaddr":{"sa_family":"AF_INET","sin_addr":"203.0.113.7","sin_port":443}}]}`,
  ),
);

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe("tracee-ds run --serve with tracee-ds store", () => {
  it("a reputation written with `store write` while run runs makes the next connection a detection; `store delete` ends it", async () => {
    const socket = join(dir, "run.sock");
    const address = `unix://${socket}`;
    // --output-all passes each input event through after its detections: the way to know an event was processed.
    const running = startCli(["run", "--detectors", "examples/detectors", "--input", "json:-", "--serve", address, "--output-all"]);
    await running.waitFor("stderr", /serving data sources and datastores/);
    expect(running.out.stderr).toContain("ip_reputation");

    type Out = { name: string; data: { name: string; str?: string; int32?: number }[] };
    const out = () => lines(running.out.stdout).map((l) => JSON.parse(l) as Out);
    const detections = () => out().filter((e) => e.name !== "security_socket_connect");
    let sent = 0;
    const send = async () => {
      running.child.stdin.write(`${connect}\n`);
      sent++;
      await running.until(() => out().filter((e) => e.name === "security_socket_connect").length === sent);
    };

    // No reputation yet: the connection is not a detection (counted at the end).
    await send();

    const write = await startCli([
      "store", "write", "--address", address, "--store", "ip_reputation", "--source", "threat-feed",
      "--key", "203.0.113.7", "--status", "deny", "--severity", "9", "--tag", "c2",
    ]).done;
    expect(write.stderr).toBe("");
    expect(write.code).toBe(0);
    await send();
    // The input passes through before its detections: wait for this one's.
    await running.until(() => detections().length === 1);

    const sources = await startCli(["store", "sources", "--address", address, "--store", "ip_reputation"]).done;
    expect(sources.code).toBe(0);
    expect(lines(sources.stdout)).toEqual(["threat-feed"]);

    const del = await startCli(["store", "delete", "--address", address, "--store", "ip_reputation", "--source", "threat-feed", "--key", "203.0.113.7"]).done;
    expect(del.code).toBe(0);
    await send();

    running.child.stdin.end();
    const r = await running.done;
    expect(r.code).toBe(0);
    // Three connections in, one detection out: the one between the write and the delete.
    expect(r.stderr).toContain("end of input: 3 events");
    const found = detections();
    expect(found).toHaveLength(1);
    expect(found[0]?.name).toBe("ip_reputation_connection");
    expect(found[0]?.data).toEqual(expect.arrayContaining([{ name: "ip", str: "203.0.113.7" }, { name: "severity", int32: 9 }, { name: "source", str: "threat-feed" }]));
  });
});
