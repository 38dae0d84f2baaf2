/**
 * The built `tracee-ds` bin, spawned the way a shell runs it, against real
 * servers. `npm test` builds dist/ before this runs.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonValue } from "type-fest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DataSourceRegistry, ErrFailedToUnmarshal, type WriteData, type WriteKey } from "tracee-ds";
import { type DataSourceServer, serveDataSources } from "tracee-ds/grpc";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { opensslMissing, selfSigned } from "../support/tls.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = join(root, "dist/cli.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], options: { input?: string; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A writable data source that keeps every write; refuses non-string values for key "strict". */
class Recorder {
  readonly writes: Map<WriteKey, JsonValue>[] = [];
  get(key: unknown) {
    return { key };
  }
  version() {
    return 1;
  }
  keys() {
    return ["string"];
  }
  schema() {
    return "{}";
  }
  namespace() {
    return "cli";
  }
  id() {
    return "recorder";
  }
  values() {
    return ["any"];
  }
  write(data: WriteData) {
    if (data.has("strict") && typeof data.get("strict") !== "string") throw ErrFailedToUnmarshal;
    this.writes.push(new Map(data));
  }
  all(): [WriteKey, JsonValue][] {
    return this.writes.flatMap((m) => [...m]);
  }
}

let dir: string;
let servers: DataSourceServer[] = [];
let recorder: Recorder;

async function startServer(address = "127.0.0.1:0", credentials?: ServerCredentials): Promise<DataSourceServer> {
  const server = await serveDataSources(new DataSourceRegistry().register(recorder), {
    address,
    ...(credentials ? { credentials } : {}),
  });
  servers.push(server);
  return server;
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error("dist/cli.js is missing: run `npm run build` first (`npm test` does)");
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close({ graceMs: 100 })));
  servers = [];
});

const target = (address: string) => ["--address", address, "--namespace", "cli", "--id", "recorder"];

/**
 * The `failed` line for `address`, checked for what a user should not see:
 * the transport's internal diagnostics, or a label with nothing after it.
 */
function failedLine(stderr: string, address: string): string {
  const line = stderr.split("\n").find((l) => l.startsWith(`failed  ${address}  `));
  expect(line, stderr).toBeDefined();
  expect(line).not.toMatch(/name resolution|LB pick|remote_addr|metadata filters|resolution note/i);
  expect(line).not.toMatch(/[:,]\s*$/);
  return line!;
}

/** A gRPC server whose Write never answers: a call to it can only end at its deadline. */
async function silentServer(): Promise<string> {
  const server = new Server();
  const bytes = (b: Buffer) => b;
  server.addService(
    {
      Write: {
        path: "/tracee.v1beta1.DataSourceService/Write",
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    },
    { Write: () => {} },
  );
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
  );
  silent.push(server);
  return `127.0.0.1:${port}`;
}
let silent: Server[] = [];

/** A TCP listener that accepts connections and never speaks HTTP/2. */
async function mute(): Promise<string> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  mutes.push({ server, sockets });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}
let mutes: { server: NetServer; sockets: Socket[] }[] = [];
afterEach(async () => {
  for (const s of silent) s.forceShutdown();
  silent = [];
  for (const m of mutes) for (const socket of m.sockets) socket.destroy();
  await Promise.all(mutes.map((m) => new Promise((ok) => m.server.close(ok))));
  mutes = [];
});

describe("tracee-ds write", () => {
  it("writes a JSON value and exits 0", async () => {
    recorder = new Recorder();
    const server = await startServer();
    const r = await runCli(["write", ...target(server.address), "--key", "threshold", "--value", '{"a":[1,2.5]}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok      ${server.address}`);
    expect(recorder.all()).toEqual([["threshold", { a: [1, 2.5] }]]);
  });

  it("sends --string values unparsed and --json-key keys parsed, over a unix socket", async () => {
    recorder = new Recorder();
    const server = await startServer(`unix://${join(dir, "write.sock")}`);
    expect((await runCli(["write", ...target(server.address), "--key", "k", "--value", "10", "--string"])).code).toBe(0);
    expect((await runCli(["write", ...target(server.address), "--key", "7", "--json-key", "--value", "true"])).code).toBe(0);
    expect(recorder.all()).toEqual([
      ["k", "10"],
      [7, true],
    ]);
  });

  it("exits 1 with the status name and details on stderr when the server refuses", async () => {
    recorder = new Recorder();
    const server = await startServer();
    const missing = await runCli(["write", "--address", server.address, "--namespace", "nope", "--id", "x", "--key", "k", "--value", "1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("NOT_FOUND");
    expect(missing.stderr).toContain("namespace: nope");
    const invalid = await runCli(["write", ...target(server.address), "--key", "strict", "--value", "5"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("INVALID_ARGUMENT");
    expect(recorder.writes).toEqual([]);
  });

  it("fans out to every --address and reports each; one down means exit 1", async () => {
    recorder = new Recorder();
    const up = await startServer();
    const down = `unix://${join(dir, "nobody-listens.sock")}`;
    const r = await runCli(["write", ...target(up.address), "--address", down, "--key", "k", "--value", '"v"', "--deadline", "5s"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`ok      ${up.address}`);
    expect(r.stderr).toContain(`failed  ${down}  UNAVAILABLE`);
    failedLine(r.stderr, down);
    expect(recorder.all()).toEqual([["k", "v"]]);
  });

  it("reports a passed deadline as DEADLINE_EXCEEDED, without the transport's internals", async () => {
    const silentAddress = await silentServer();
    const muteAddress = await mute();
    const write = ["--namespace", "cli", "--id", "recorder", "--key", "k", "--value", "1"];
    // A deadline that passes before the connection is up, while it is being
    // set up, and while the server holds the call.
    for (const [address, deadline] of [
      ["127.0.0.1:1", "1ms"],
      [muteAddress, "300ms"],
      [silentAddress, "300ms"],
    ] as const) {
      const r = await runCli(["write", "--address", address, ...write, "--deadline", deadline]);
      expect(r.code).toBe(1);
      expect(failedLine(r.stderr, address)).toMatch(/ {2}DEADLINE_EXCEEDED: /);
    }
  });

  it("writes the same value to two live endpoints and exits 0", async () => {
    recorder = new Recorder();
    const a = await startServer();
    const b = await startServer();
    const r = await runCli(["write", ...target(a.address), "--address", b.address, "--key", "k", "--value", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(recorder.all()).toEqual([
      ["k", 1],
      ["k", 1],
    ]);
  });

  it.each([
    [["write", "--namespace", "cli", "--id", "recorder", "--value", "1"], "--key is required"],
    [["write", "--namespace", "cli", "--id", "recorder", "--key", "k", "--value", "not json"], "--value: not valid JSON"],
    [["write", "--namespace", "cli", "--id", "recorder", "--key", "k", "--value", "1", "--bogus"], "Unknown option '--bogus'"],
    [["write", "--namespace", "cli", "--id", "recorder", "--key", "{}", "--json-key", "--value", "1"], "a key must be a string"],
    [["write", "--namespace", "cli", "--id", "r", "--key", "k", "--value", "1", "--deadline", "soon"], "--deadline: expected a duration"],
    [["write", "--namespace", "cli", "--id", "r", "--key", "k", "--value", "1", "--cert", "c.pem"], "--cert and --tls-key go together"],
    [["write", "--address", "unix://", "--namespace", "n", "--id", "i", "--key", "k", "--value", "1"], "--address: unix address must be"],
    [["write", "--address", "nohost", "--namespace", "n", "--id", "i", "--key", "k", "--value", "1"], '--address: address must be "unix:///path" or "host:port"'],
    [["serve", "--address", "bogus", "--module", "x.mjs"], "--address: address must be"],
    [["frobnicate"], "unknown command"],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe("tracee-ds write-stream", () => {
  const ndjson = ['{"key":"a","value":1}', "", '{"key":2,"value":{"nested":[true,null]}}', '{"key":null,"value":"x"}'].join("\n");

  it("streams a file's entries as one write", async () => {
    recorder = new Recorder();
    const server = await startServer();
    const file = join(dir, "entries.ndjson");
    writeFileSync(file, ndjson);
    const r = await runCli(["write-stream", ...target(server.address), "--file", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("3 entries written to cli/recorder");
    expect(r.stderr).toContain("3 entries to 1 endpoint");
    expect(recorder.writes).toHaveLength(1);
    expect(recorder.all()).toEqual([
      ["a", 1],
      [2, { nested: [true, null] }],
      [null, "x"],
    ]);
  });

  it("streams standard input with -", async () => {
    recorder = new Recorder();
    const server = await startServer(`unix://${join(dir, "stream.sock")}`);
    const r = await runCli(["write-stream", ...target(server.address), "-"], { input: ndjson });
    expect(r.code).toBe(0);
    expect(recorder.all()).toHaveLength(3);
  });

  it("reports a malformed line with its number and sends nothing", async () => {
    recorder = new Recorder();
    const server = await startServer();
    const bad = `${ndjson}\n{"key":"b","value":}\n{"key":"c","value":3}`;
    const r = await runCli(["write-stream", ...target(server.address)], { input: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stdin:5: not valid JSON");
    const wrongShape = await runCli(["write-stream", ...target(server.address)], { input: '{"key":[1],"value":1}' });
    expect(wrongShape.code).toBe(2);
    expect(wrongShape.stderr).toContain('stdin:1: "key" must be a string');
    expect(recorder.writes).toEqual([]);
  });

  it.each([
    ["empty", ""],
    ["blank lines only", "\n  \n\n"],
  ])("sends nothing for input with no entries (%s), says so, and exits 0", async (_, input) => {
    recorder = new Recorder();
    const server = await startServer();
    const down = `unix://${join(dir, "nobody-listens-empty.sock")}`;
    const r = await runCli(["write-stream", ...target(server.address), "--address", down], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(""); // no "ok" line claims a write
    expect(r.stderr.trim()).toBe("nothing sent: the input had no entries");
    expect(recorder.writes).toEqual([]);
  });

  it("exits 1 when the data source refuses the stream, and nothing is written", async () => {
    recorder = new Recorder();
    const server = await startServer();
    const r = await runCli(["write-stream", ...target(server.address)], { input: `${ndjson}\n{"key":"strict","value":1}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("INVALID_ARGUMENT");
    expect(recorder.writes).toEqual([]);
  });
});

describe.skipIf(opensslMissing)("TLS flags (certificates made with openssl)", () => {
  it("writes over TLS with --ca, and over mTLS with --cert and --tls-key", async () => {
    recorder = new Recorder();
    const server = selfSigned(dir, "server");
    const client = selfSigned(dir, "client");
    const tls = await startServer("localhost:0", ServerCredentials.createSsl(null, [{ private_key: server.key, cert_chain: server.cert }]));
    const mtls = await startServer(
      "localhost:0",
      ServerCredentials.createSsl(client.cert, [{ private_key: server.key, cert_chain: server.cert }], true),
    );
    const write = (address: string, ...flags: string[]) =>
      runCli(["write", ...target(address), "--key", "k", "--value", "1", "--deadline", "5s", ...flags]);

    expect((await write(tls.address, "--ca", server.certPath)).code).toBe(0);
    const plaintext = await write(tls.address);
    expect(plaintext.code).toBe(1);
    expect((await write(mtls.address, "--ca", server.certPath, "--cert", client.certPath, "--tls-key", client.keyPath)).code).toBe(0);
    expect((await write(mtls.address, "--ca", server.certPath)).code).toBe(1);
    expect(recorder.all()).toEqual([
      ["k", 1],
      ["k", 1],
    ]);
  });

  it("reports an unreadable certificate file as a usage error", async () => {
    const missing = await runCli(["write", ...target("127.0.0.1:1"), "--key", "k", "--value", "1", "--ca", join(dir, "nope.pem")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--ca: cannot read");
  });
});

describe("tracee-ds serve", () => {
  it("hosts a module's data sources until SIGTERM, then removes its socket", async () => {
    const log = join(dir, "serve-log.ndjson");
    const modulePath = join(dir, "datasources.mjs");
    writeFileSync(
      modulePath,
      `import { appendFileSync } from "node:fs";
       class Threshold {
         threshold = 0;
         get() { return { threshold: this.threshold }; }
         version() { return 1; } keys() { return ['string:"threshold"']; } values() { return ["int"]; }
         schema() { return '{"threshold":"int"}'; } namespace() { return "my_namespace"; } id() { return "threshold_datasource"; }
         write(data) {
           const v = data.get("threshold");
           if (typeof v !== "number") throw Object.assign(new Error("bad"), {});
           this.threshold = v;
           appendFileSync(${JSON.stringify(log)}, JSON.stringify(v) + "\\n");
         }
       }
       export const dataSources = [new Threshold()];`,
    );
    const socket = join(dir, "serve.sock");
    const child = spawn(process.execPath, [bin, "serve", "--address", `unix://${socket}`, "--module", modulePath], { stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    await new Promise<void>((ready, fail) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes("threshold_datasource")) ready();
      });
      child.on("close", () => fail(new Error(`serve exited early: ${stderr}`)));
    });
    expect(stdout).toContain(`listening on unix://${socket}`);
    expect(stdout).toContain("my_namespace/threshold_datasource v1 (writable)");

    const args = ["--address", `unix://${socket}`, "--namespace", "my_namespace", "--id", "threshold_datasource", "--key", "threshold"];
    expect((await runCli(["write", ...args, "--value", "42"])).code).toBe(0);
    const refused = await runCli(["write", ...args, "--value", "ten", "--string"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("INTERNAL");
    expect(readFileSync(log, "utf8")).toBe("42\n");

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("SIGTERM: stopping");
    expect(existsSync(socket)).toBe(false);
  });

  it("serves a TypeScript module with a local install, the way its help and docs/cli.md say", async () => {
    const help = (await runCli(["serve", "--help"])).stdout;
    const command = /node --import tsx \S+ serve\b/.exec(help)?.[0];
    expect(command, help).toBeDefined();
    expect(readFileSync(join(root, "docs/cli.md"), "utf8")).toContain(`${command} `);

    // A project with tracee-ds and tsx installed (linked to this checkout's).
    const project = join(dir, "ts-project");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    writeFileSync(join(project, "package.json"), '{ "name": "ts-project", "private": true, "type": "module" }');
    symlinkSync(root, join(project, "node_modules/tracee-ds"), "dir");
    symlinkSync(join(root, "node_modules/tsx"), join(project, "node_modules/tsx"), "dir");
    writeFileSync(
      join(project, "datasources.ts"),
      `import { defineWritableDataSource, t } from "tracee-ds";
       const start: number = 5;
       export const dataSources = [
         defineWritableDataSource({
           namespace: "my_namespace", id: "threshold_datasource",
           key: t.literal("threshold"), value: t.int({ min: 1 }), data: [["threshold", start]],
         }),
       ];`,
    );
    const socket = join(dir, "ts-serve.sock");
    const [, ...nodeArgs] = command!.split(" "); // run by this test's node
    const child = spawn(process.execPath, [...nodeArgs, "--address", `unix://${socket}`, "--module", "./datasources.ts"], {
      cwd: project,
      stdio: "pipe",
    });
    try {
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("close", r));
      await new Promise<void>((ready, fail) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes("threshold_datasource")) ready();
        });
        child.on("close", () => fail(new Error(`serve exited early: ${stderr}`)));
      });
      expect(stdout).toContain("my_namespace/threshold_datasource v1 (writable)");
      const args = ["--address", `unix://${socket}`, "--namespace", "my_namespace", "--id", "threshold_datasource", "--key", "threshold"];
      expect((await runCli(["write", ...args, "--value", "7"])).code).toBe(0);
      const refused = await runCli(["write", ...args, "--value", "5.5"]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("threshold: expected an integer, got 5.5");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stderr).toContain("SIGTERM: stopping");
      expect(existsSync(socket)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  // Node 22.6+ can strip types itself; older Node needs tsx.
  const nodeLoadsTypeScript = Boolean((process.features as { typescript?: unknown }).typescript);
  it.skipIf(nodeLoadsTypeScript)("points to tsx when a TypeScript module cannot be loaded without it", async () => {
    const modulePath = join(dir, "plain-node.ts");
    writeFileSync(modulePath, "export const dataSources: unknown[] = [];");
    const r = await runCli(["serve", "--address", "127.0.0.1:0", "--module", modulePath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("for TypeScript, run through tsx: node --import tsx node_modules/tracee-ds/dist/cli.js serve");
  });

  it("refuses a module without data sources with exit 2", async () => {
    const modulePath = join(dir, "empty.mjs");
    writeFileSync(modulePath, "export const nothing = 1;");
    const r = await runCli(["serve", "--address", "127.0.0.1:0", "--module", modulePath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("exports no data sources");
  });
});

describe("tracee-ds help and version", () => {
  it("prints the package version", async () => {
    const r = await runCli(["--version"]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each(["write", "write-stream", "serve"])("prints help for %s", async (command) => {
    const r = await runCli([command, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: tracee-ds ${command}`);
  });

  it("prints the command list with exit 2 when no command is given", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("write-stream");
  });
});
