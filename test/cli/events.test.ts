/**
 * `tracee-ds events`, mostly as a shell runs it: the built bin (dist/cli.js)
 * against a fake Tracee, files, stdin and webhook posts. A few cases run the
 * command in this process, where a test can play a terminal or a stuck one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeTracee, fakeTracee } from "tracee-ds/testing";
import { run } from "../../src/cli/run.js";
import { EVENTS_QUEUE_CAPACITY } from "../../src/cli/commands/events.js";
import { type CliResult, killCliChildren, requireBuiltCli, root, type RunningCli, startCli } from "../support/cli.js";

const fixtures = join(root, "test/fixtures/events");
const v1beta1Path = join(fixtures, "v1beta1.ndjson");
const v1beta1 = readFileSync(v1beta1Path, "utf8");
const lines = v1beta1.split("\n").filter((l) => l !== "");

type Result = CliResult;
type Running = RunningCli;

const start = (args: string[], input?: string): Running => startCli(["events", ...args], input === undefined ? {} : { input });

const runEvents = (args: string[], input = ""): Promise<Result> => start(args, input).done;

let dir: string;
let tracees: FakeTracee[] = [];
async function tracee(options: Parameters<typeof fakeTracee>[0]): Promise<FakeTracee> {
  const t = await fakeTracee(options);
  tracees.push(t);
  return t;
}

beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-events-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  killCliChildren();
  await Promise.all(tracees.splice(0).map((t) => t.close()));
});

/** Lines of a table: the header first, then one per event. */
const tableRows = (stdout: string) => stdout.split("\n").filter((l) => l !== "");

describe("tracee-ds events: NDJSON from a file or stdin", () => {
  it("replays a file in Tracee's JSON, byte for byte, and sums up on stderr", async () => {
    const r = await runEvents(["--input", `json:${v1beta1Path}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v1beta1);
    expect(r.stderr).toBe(`end of input: ${lines.length} events printed (received ${lines.length}, dropped 0, malformed 0)\n`);
  });

  it("replays stdin with json:-, byte for byte; a relative path reads from the working directory", async () => {
    const r = await runEvents(["--input", "json:-"], v1beta1);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v1beta1);
    const relative = await runEvents(["--input", "json:test/fixtures/events/v1beta1.ndjson"]);
    expect(relative.stdout).toBe(v1beta1);
  });

  it("prints legacy trace.Event lines in Tracee's JSON of today", async () => {
    const r = await runEvents(["--input", `json:${join(fixtures, "legacy.ndjson")}`]);
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split("\n");
    expect(out).toHaveLength(readFileSync(join(fixtures, "legacy.ndjson"), "utf8").trim().split("\n").length);
    for (const line of out) expect(line).toMatch(/^\{"timestamp":"\d{4}-\d\d-\d\dT[^"]+Z","id":\d+,"name":"/);
  });

  it("stops after --count events with exit 0", async () => {
    const r = await runEvents(["--input", `json:${v1beta1Path}`, "--count", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${lines.slice(0, 3).join("\n")}\n`);
    expect(r.stderr).toContain("--count 3 reached: 3 events printed");
  });

  it("prints a table with time, event name, comm/pid, container and data", async () => {
    const r = await runEvents(["--input", "json:-", "--format", "table"], v1beta1);
    expect(r.code).toBe(0);
    const rows = tableRows(r.stdout);
    expect(rows[0]).toMatch(/^TIME\(UTC\)\s+EVENT\s+PROCESS\s+CONTAINER\s+DATA$/);
    expect(rows).toHaveLength(lines.length + 1);
    expect(rows[1]).toMatch(
      /^22:59:27\.356748 +security_file_open +bash\/2578238 +- +pathname=\/tmp\/testing\.txt flags=O_WRONLY\|O_CREAT\|O_TRUNC\|O_LARGEFILE dev=271581185 inode=1966101 /,
    );
    expect(rows[3]).toMatch(/ vfs_read +cat\/182934 +- +pathname="" /);
    for (const [i, line] of lines.entries()) {
      const { name } = JSON.parse(line) as { name: string };
      expect(rows[i + 1]).toContain(` ${name} `);
    }
    // a container's short id
    expect(r.stdout).toMatch(/net_packet_http +inform-164\/21 +95e88e281c4b +src=172\.17\.0\.2 /);
  });

  it("skips a malformed line by default, and says how many and where the first was", async () => {
    const input = `${lines[0]}\n{"timestamp":"x"\n${lines[1]}\nnot json\n`;
    const r = await runEvents(["--input", "json:-"], input);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${lines[0]}\n${lines[1]}\n`);
    expect(r.stderr).toContain("skipped 2 malformed lines; the first: stdin:2: not an event:");
    expect(r.stderr).toContain("(received 2, dropped 0, malformed 2)");
  });

  it("with --malformed fail, exits 1 naming the line, after the events before it", async () => {
    const file = join(dir, "bad.ndjson");
    writeFileSync(file, `${lines[0]}\n\n${lines[1]}\n{"timestamp":"2022-07-08T22:59:27Z","id":"x","name":"y"}\n${lines[2]}\n`);
    const r = await runEvents(["--input", `json:${file}`, "--malformed", "fail"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${lines[0]}\n${lines[1]}\n`);
    expect(r.stderr).toMatch(new RegExp(`^tracee-ds events: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4: not an event: id: .* \\(--malformed fail\\)\\n$`));
  });

  it("stops quietly with exit 0 when the reader of its output goes away (| head)", async () => {
    const events = start(["--input", "json:-"]);
    events.child.stdin.on("error", () => undefined); // it may stop before reading all of it
    events.child.stdin.end(v1beta1.repeat(300));
    await events.waitFor("stdout", /\n/);
    events.child.stdout.destroy();
    const r = await events.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("exits 1 with a clear message, no stack, for a file it cannot read", async () => {
    const r = await runEvents(["--input", `json:${join(dir, "missing.ndjson")}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tracee-ds events: cannot read events from ${join(dir, "missing.ndjson")}: no such file or directory\n`);
  });
});

describe("tracee-ds events: from Tracee over gRPC", () => {
  it("streams over TCP, sending --policy and --mask to Tracee, byte for byte", async () => {
    const t = await tracee({ events: v1beta1 });
    const r = await runEvents([
      "--input",
      `grpc:${t.address}`,
      "--policy",
      "default",
      "--policy",
      "net",
      "--mask",
      "workload.process.pid,name",
      "--mask",
      "data",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v1beta1);
    expect(r.stderr).toContain(`Tracee ended the stream: ${lines.length} events printed`);
    expect(t.calls).toEqual([{ policies: ["default", "net"], mask: ["workload.process.pid", "name", "data"] }]);
  });

  it("streams over a unix socket, without policies or mask unless asked, and stops at --count", async () => {
    const t = await tracee({ events: v1beta1, then: "hold", address: `unix://${join(dir, "tracee.sock")}` });
    const r = await runEvents(["--input", `grpc:${t.address}`, "--count", "5", "--format", "table"]);
    expect(r.code).toBe(0);
    const rows = tableRows(r.stdout);
    expect(rows).toHaveLength(6);
    expect(rows[2]).toMatch(/ openat +bash\/2578238 /);
    expect(t.calls).toEqual([{ policies: [], mask: undefined }]);
  });

  it("exits 1 with what to check when Tracee's socket is missing", async () => {
    const socket = join(dir, "no-tracee.sock");
    const r = await runEvents(["--input", `grpc:unix://${socket}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`tracee-ds events: UNAVAILABLE: no socket at unix://${socket} (ENOENT): is the server running`);
    expect(r.stderr).toContain("--server grpc-address=unix:/var/run/tracee.sock");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("exits 1 when Tracee refuses the policy", async () => {
    const t = await tracee({ events: v1beta1, policies: ["default"] });
    const r = await runEvents(["--input", `grpc:${t.address}`, "--policy", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("policy [nope] not found");
  });

  it("with --reconnect, reconnects when Tracee ends the stream, saying so on stderr", async () => {
    const t = await tracee({ events: v1beta1 });
    const r = await runEvents(["--input", `grpc:${t.address}`, "--reconnect", "--count", String(lines.length + 3)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${v1beta1}${lines.slice(0, 3).join("\n")}\n`);
    expect(r.stderr).toMatch(/^reconnecting in \d+ms \(attempt 1\): Tracee ended the stream$/m);
    expect(t.calls.length).toBeGreaterThanOrEqual(2);
  });

  it("stops on SIGTERM with a one-line summary on stderr and exit 0", async () => {
    const t = await tracee({ events: v1beta1, then: "hold" });
    const events = start(["--input", `grpc:${t.address}`]);
    await events.waitFor("stdout", new RegExp(`(?:.*\\n){${lines.length}}`));
    events.child.kill("SIGTERM");
    const r = await events.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v1beta1);
    expect(r.stderr).toBe(`SIGTERM: ${lines.length} events printed (received ${lines.length}, dropped 0, malformed 0)\n`);
  });

  it("stops on SIGINT (Ctrl-C) the same way, even before Tracee sent anything", async () => {
    const t = await tracee({ events: [], then: "hold" });
    const events = start(["--input", `grpc:${t.address}`]);
    // The call has reached Tracee: the command is waiting for events.
    for (let i = 0; i < 200 && t.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(t.calls).toHaveLength(1);
    events.child.kill("SIGINT");
    const r = await events.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("SIGINT: 0 events printed (received 0, dropped 0, malformed 0)\n");
  });
});

describe("tracee-ds events: Tracee's webhook output", () => {
  it("prints events POSTed to it, answers a malformed post 400, and --count ends it", async () => {
    const events = start(["--input", "webhook:127.0.0.1:0/tracee", "--count", "3"]);
    const [, url = ""] = await events.waitFor("stderr", /^listening on (http:\/\/127\.0\.0\.1:\d+\/tracee) /m);
    const post = (body: string) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });

    expect((await post(lines[0]!)).status).toBe(200);
    const bad = await post('{"timestamp":"2022-07-08T22:59:27Z","name":');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^line 1: /);
    expect((await fetch(url.replace(/\/tracee$/, "/other"), { method: "POST", body: lines[1]! })).status).toBe(404);
    expect((await post(`${lines[1]}\n`)).status).toBe(200);
    expect((await post(lines[2]!)).status).toBe(200);

    const r = await events.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${lines.slice(0, 3).join("\n")}\n`);
    expect(r.stderr).toContain(`(tracee --output webhook:${url})`);
    expect(r.stderr).toContain("skipped 1 malformed post (answered 400)");
    expect(r.stderr).toContain("--count 3 reached: 3 events printed (received 3, dropped 0, malformed 1)");
  });

  it("with --malformed fail, a post that is not an event ends it with exit 1", async () => {
    const events = start(["--input", "webhook:0", "--malformed", "fail"]);
    const [, url = ""] = await events.waitFor("stderr", /^listening on (http:\/\/127\.0\.0\.1:\d+\/) /m);
    expect((await fetch(url, { method: "POST", body: lines[0]! })).status).toBe(200);
    expect((await fetch(url, { method: "POST", body: "not json" })).status).toBe(400);
    const r = await events.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${lines[0]}\n`);
    expect(r.stderr).toContain("a post to the webhook was not a Tracee event");
  });
});

describe("tracee-ds events: usage", () => {
  it("prints its help, listed in the command list", async () => {
    const r = await runEvents(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: tracee-ds events");
    expect(r.stdout).toContain("--drop");
    expect(r.stdout).toMatch(/holds Tracee itself back/);
    const top = (await startCli(["--help"]).done).stdout;
    expect(top).toMatch(/^ {2}events +print Tracee's events/m);
  });

  it.each([
    [["--input", `json:${v1beta1Path}`, "--mask", "name"], "--mask is for the grpc input"],
    [["--input", "json:-", "--policy", "default"], "--policy is for the grpc input"],
    [["--input", "webhook:0", "--reconnect"], "--reconnect is for the grpc input"],
    [["--input", "grpc:127.0.0.1:1", "--malformed", "skip"], "--malformed is for json and webhook inputs"],
    [["--input", `json:${v1beta1Path}`, "--drop"], "--drop is for live inputs"],
    [["--input", "bogus"], "--input: expected grpc:ADDR, json:PATH, json:- or webhook:[HOST:]PORT[/PATH]"],
    [["--input", "grpc:nohost"], "--input grpc:ADDR: address must be"],
    [["--input", "json:"], "--input json:PATH needs a file"],
    [["--input", "webhook:99999"], "--input webhook: expected webhook:PORT"],
    [["--count", "0"], "--count: expected a whole number >= 1"],
    [["--count", "ten"], "--count: expected a whole number >= 1"],
    [["--format", "xml"], "--format: expected json or table"],
    [["--input", "json:-", "--malformed", "maybe"], "--malformed: expected skip or fail"],
    [["--mask", ","], "--mask: no field paths given"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const r = await runEvents(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("run tracee-ds events --help for usage");
    expect(r.stdout).toBe("");
  });
});

/** `run` in this process, with buffers for stdio and a stop we trigger. */
function inProcess(stdout: Writable, stdin = "") {
  let stopWith: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((r) => (stopWith = r));
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const input = new PassThrough();
  input.end(stdin);
  return {
    run: (args: string[]) => run(["events", ...args], { stdin: input, stdout, stderr, cwd: root, waitForStop: () => stopped }),
    stop: (signal = "SIGTERM") => stopWith(signal),
    stderr: () => err,
  };
}

describe("tracee-ds events: terminals and slow output", () => {
  it("cuts table lines to the terminal's width when stdout is a terminal", async () => {
    let text = "";
    const tty = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text += chunk.toString();
          callback();
        },
      }),
      { isTTY: true, columns: 60 },
    );
    const cli = inProcess(tty, `${v1beta1}${lines[0]!.replace("bash", "ba\\u001b[31msh")}\n`);
    expect(await cli.run(["--input", "json:-", "--format", "table"])).toBe(0);
    const rows = tableRows(text);
    expect(rows).toHaveLength(lines.length + 2);
    for (const row of rows) expect(Array.from(row).length).toBeLessThanOrEqual(60);
    expect(rows[1]!.endsWith("…")).toBe(true);
    // A control character from the traced system is shown, not sent to the terminal.
    expect(rows.at(-1)).toContain(" ba\\x1b[31msh/257");
    expect(text).not.toContain("\u001b");
  });

  /** An output that never takes anything: a terminal paused with Ctrl-S. */
  const stuck = () => new Writable({ highWaterMark: 1, write: () => undefined });

  it.each([
    ["holds Tracee back by default: reads about a queue's worth and drops nothing", []],
    ["with --drop, keeps reading and drops the oldest, holding a queue's worth", ["--drop"]],
  ])("%s; a stop still ends it", async (_, flags) => {
    const many = v1beta1.repeat(300); // 5100 events
    const total = lines.length * 300;
    const t = await tracee({ events: many, then: "hold" });
    const cli = inProcess(stuck());
    const done = cli.run(["--input", `grpc:${t.address}`, ...flags]);
    await new Promise((r) => setTimeout(r, 1500));
    cli.stop();
    expect(await done).toBe(0);
    const m = /^SIGTERM: (\d+) events printed \(received (\d+), dropped (\d+), malformed 0\)$/m.exec(cli.stderr());
    expect(m, cli.stderr()).not.toBeNull();
    const [printed, received, dropped] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(printed + dropped).toBe(received);
    // What waited for the output: the queue, and (blocking) the rest of the chunk being read when it filled.
    expect(printed).toBeLessThan(2 * EVENTS_QUEUE_CAPACITY);
    if (flags.length === 0) {
      expect(dropped).toBe(0);
    } else {
      expect(received).toBe(total);
      expect(dropped).toBeGreaterThan(total - EVENTS_QUEUE_CAPACITY - 2);
    }
  });
});
