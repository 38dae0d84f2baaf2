/**
 * The server's lifecycle and security: unix socket files (mode, stale, live),
 * TCP port 0, close() draining, authorize, TLS and mTLS, and running the
 * service on a grpc.Server of your own.
 */
import { execFileSync } from "node:child_process";
import { existsSync, linkSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { credentials, Metadata, Server, ServerCredentials } from "@grpc/grpc-js";
import {
  type AuthorizeRequest,
  DataSourceClient,
  dataSourceService,
  isDataSourceClientError,
  serveDataSources,
  Status,
} from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import {
  clientFor,
  deferred,
  fixture,
  numberValue,
  RawClient,
  request,
  serve,
  serveObserved,
  stringValue,
  tempDir,
  trackClient,
  trackServer,
  TRANSPORTS,
} from "./helpers.js";
import { opensslMissing, selfSigned } from "../support/tls.js";

const entry = (key: string, value: number) => ({ namespace: "test", id: "recorder", key, value });

async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "OK",
    (e: unknown) => (isDataSourceClientError(e) ? e.codeName : `not a client error: ${String(e)}`),
  );
}

function listen(path: string): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end());
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

const closeNet = (server: NetServer) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("unix sockets", () => {
  it("creates the socket with mode 0600, or socketMode", async () => {
    const { registry } = fixture();
    const dir = tempDir();
    const a = await serve(registry, "unix", { address: `unix://${join(dir, "a.sock")}` });
    expect(statSync(join(dir, "a.sock")).mode & 0o777).toBe(0o600);
    expect(a.address).toBe(`unix://${join(dir, "a.sock")}`);
    await serve(registry, "unix", { address: `unix://${join(dir, "b.sock")}`, socketMode: 0o660 });
    expect(statSync(join(dir, "b.sock")).mode & 0o777).toBe(0o660);
    // Nothing else is left in the directory (the private bind directory is gone).
    expect(execFileSync("ls", ["-A", dir], { encoding: "utf8" }).trim().split("\n").sort()).toEqual([
      "a.sock",
      "b.sock",
    ]);
  });

  it("replaces a stale socket file (nobody listening)", async () => {
    const dir = tempDir();
    const live = join(dir, "live.sock");
    const stale = join(dir, "ds.sock");
    const net = await listen(live);
    linkSync(live, stale); // a second name for the socket...
    await closeNet(net); // ...which stays behind, stale, when its server goes
    expect(statSync(stale).isSocket()).toBe(true);
    const { ds, registry } = fixture();
    const server = await serve(registry, "unix", { address: `unix://${stale}` });
    await clientFor(server).write(entry("k", 1));
    expect(ds.writes).toHaveLength(1);
  });

  it("does not steal a live socket", async () => {
    const dir = tempDir();
    const path = join(dir, "ds.sock");
    const net = await listen(path);
    try {
      const { registry } = fixture();
      await expect(serveDataSources(registry, { address: `unix://${path}` })).rejects.toThrow(
        /another server is listening there \(address in use\)/,
      );
      // The other server still owns its socket.
      expect(statSync(path).isSocket()).toBe(true);
      await new Promise<void>((resolve, reject) => {
        const s = createServer();
        s.once("error", () => resolve()); // EADDRINUSE: the path is still taken
        s.listen(path, () => s.close(() => reject(new Error("the socket was replaced"))));
      });
    } finally {
      await closeNet(net);
    }
  });

  it("refuses a path that is not a socket", async () => {
    const path = join(tempDir(), "file.txt");
    writeFileSync(path, "precious");
    const { registry } = fixture();
    await expect(serveDataSources(registry, { address: `unix://${path}` })).rejects.toThrow(/is not a socket/);
    expect(readFileSync(path, "utf8")).toBe("precious");
  });

  it("names the missing directory when the socket's directory does not exist", async () => {
    const { registry } = fixture();
    const dir = join(tempDir(), "nope");
    const path = join(dir, "ds.sock");
    const err = await serveDataSources(registry, { address: `unix://${path}` }).then(
      () => new Error("expected a rejection"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toBe(`cannot listen on unix://${path}: directory ${dir} does not exist`);
    expect(err.message).not.toMatch(/mkdtemp|\.tds-/);
    const file = join(tempDir(), "file.txt");
    writeFileSync(file, "");
    await expect(serveDataSources(registry, { address: `unix://${join(file, "ds.sock")}` })).rejects.toThrow(
      `cannot listen on unix://${join(file, "ds.sock")}: ${file} is not a directory`,
    );
  });

  it("close() removes the socket file; closing twice is fine", async () => {
    const { registry } = fixture();
    const path = join(tempDir(), "ds.sock");
    const server = trackServer(await serveDataSources(registry, { address: `unix://${path}` }));
    expect(existsSync(path)).toBe(true);
    await server.close();
    await server.close();
    expect(existsSync(path)).toBe(false);
  });
});

describe("addresses and options", () => {
  it("port 0 picks a port, and the handle reports it", async () => {
    const { registry } = fixture();
    const server = await serve(registry, "tcp");
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.address).not.toBe("127.0.0.1:0");
  });

  it("rejects bad addresses and limits", async () => {
    const { registry } = fixture();
    await expect(serveDataSources(registry, { address: "nowhere" })).rejects.toThrow(TypeError);
    await expect(serveDataSources(registry, { address: "unix://host/x.sock" })).rejects.toThrow(TypeError);
    await expect(serveDataSources(registry, { address: `unix:///${"x".repeat(120)}` })).rejects.toThrow(
      /longer than 107 bytes/,
    );
    await expect(serveDataSources(registry, { address: "127.0.0.1:0", maxDepth: -1 })).rejects.toThrow(RangeError);
    await expect(serveDataSources(registry, { address: "127.0.0.1:0", maxMessageBytes: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(serveDataSources(registry, { address: "127.0.0.1:0", socketMode: 0o1777 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe.each(TRANSPORTS)("close() over %s", (transport) => {
  it("lets an in-flight write finish, then resolves", async () => {
    const gate = deferred();
    const started = deferred();
    const { ds, registry } = fixture(async () => {
      started.resolve();
      await gate.promise;
    });
    const server = trackServer(
      await serveDataSources(registry, {
        address: transport === "tcp" ? "127.0.0.1:0" : `unix://${join(tempDir(), "s")}`,
      }),
    );
    const client = clientFor(server);
    const write = outcome(client.write(entry("k", 1)));
    await started.promise;
    let closed = false;
    const closing = server.close({ graceMs: 20_000 }).then(() => (closed = true));
    // New calls are refused while closing.
    const late = trackClient(new DataSourceClient(server.address));
    expect(await outcome(late.write(entry("late", 2)))).toBe("UNAVAILABLE");
    expect(closed).toBe(false);
    gate.resolve();
    expect(await write).toBe("OK");
    await closing;
    expect(ds.writes).toEqual([new Map([["k", 1]])]);
  });

  it("cancels calls still running after graceMs; a cancelled stream writes nothing", async () => {
    const seen = deferred();
    const { ds, registry } = fixture();
    const server = trackServer(
      await serveDataSources(registry, {
        address: transport === "tcp" ? "127.0.0.1:0" : `unix://${join(tempDir(), "s")}`,
        authorize: () => {
          seen.resolve();
          return true;
        },
      }),
    );
    const client = clientFor(server);
    const never = deferred();
    async function* entries() {
      yield entry("a", 1);
      yield entry("b", 2);
      await never.promise;
    }
    const stream = outcome(client.writeStream(entries()));
    await seen.promise;
    await server.close({ graceMs: 100 });
    expect(["CANCELLED", "UNAVAILABLE"]).toContain(await stream);
    expect(ds.writes).toEqual([]);
  });
});

describe("authorize", () => {
  it("sees namespace, id, metadata, peer and method; async true allows", async () => {
    const seen: AuthorizeRequest[] = [];
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp", {
      authorize: async (req) => {
        seen.push(req);
        await new Promise((r) => setImmediate(r));
        return req.metadata.get("authorization")[0] === "Bearer s3cret";
      },
    });
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer s3cret");
    const good = clientFor(server, { metadata });
    await good.write(entry("a", 1));
    await good.writeStream([entry("b", 2), entry("c", 3)]);
    const bad = clientFor(server);
    expect(await outcome(bad.write(entry("d", 4)))).toBe("PERMISSION_DENIED");
    // Per-call metadata is added to the client's.
    const perCall = new Metadata();
    perCall.set("authorization", "Bearer s3cret");
    await bad.write(entry("e", 5), { metadata: perCall });
    expect(seen.map((r) => [r.namespace, r.id, r.method])).toEqual([
      ["test", "recorder", "Write"],
      ["test", "recorder", "WriteStream"],
      ["test", "recorder", "Write"],
      ["test", "recorder", "Write"],
    ]);
    expect(seen[0]?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ds.writes.map((w) => [...w.keys()])).toEqual([["a"], ["b", "c"], ["e"]]);
  });

  it("a stream refused by an async hook writes nothing, even with a bad entry queued meanwhile", async () => {
    const good = request({ namespace: "test", id: "recorder", key: stringValue("a"), value: numberValue(1) });
    const otherDataSource = request({ namespace: "test", id: "other", key: stringValue("b"), value: numberValue(2) });
    for (const verdict of [false, true]) {
      const release = deferred<boolean>();
      const { ds, registry } = fixture();
      const { address, firstStream } = await serveObserved(registry, "unix", { authorize: () => release.promise });
      const result = new RawClient(address).stream([good, otherDataSource]);
      const stream = await firstStream;
      await stream.received(2); // the bad entry reached the service while the hook is still answering
      release.resolve(verdict);
      // Refused: the refusal, not the queued failure (a refused client learns nothing).
      // Allowed: the queued failure.
      expect(await result).toEqual(
        verdict
          ? {
              code: Status.INVALID_ARGUMENT,
              details: expect.stringMatching(/^entry 1: names data source \(namespace: test, id: other\)/) as string,
            }
          : { code: Status.PERMISSION_DENIED, details: "not allowed to write to data source (namespace: test, id: recorder)" },
      );
      expect(ds.writes).toEqual([]);
    }
  });
});

describe.skipIf(opensslMissing)("TLS (self-signed certificates made with openssl)", () => {
  it("serves over TLS; a client that trusts the certificate writes, a plaintext one cannot", async () => {
    const dir = tempDir();
    const srv = selfSigned(dir, "server");
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp", {
      credentials: ServerCredentials.createSsl(null, [{ private_key: srv.key, cert_chain: srv.cert }]),
    });
    const secure = clientFor(server, { credentials: credentials.createSsl(srv.cert) });
    await secure.write(entry("tls", 1));
    const plain = clientFor(server, { deadlineMs: 3000 });
    expect(["UNAVAILABLE", "DEADLINE_EXCEEDED"]).toContain(await outcome(plain.write(entry("plain", 2))));
    expect(ds.writes).toEqual([new Map([["tls", 1]])]);
  });

  it("mTLS: the server refuses a client without a trusted certificate", async () => {
    const dir = tempDir();
    const srv = selfSigned(dir, "server");
    const cli = selfSigned(dir, "client");
    const stranger = selfSigned(dir, "stranger");
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp", {
      credentials: ServerCredentials.createSsl(cli.cert, [{ private_key: srv.key, cert_chain: srv.cert }], true),
    });
    const trusted = clientFor(server, { credentials: credentials.createSsl(srv.cert, cli.key, cli.cert) });
    await trusted.writeStream([entry("m", 1), entry("tls", 2)]);
    const noCert = clientFor(server, { credentials: credentials.createSsl(srv.cert), deadlineMs: 3000 });
    expect(await outcome(noCert.write(entry("x", 3)))).not.toBe("OK");
    const wrongCert = clientFor(server, {
      credentials: credentials.createSsl(srv.cert, stranger.key, stranger.cert),
      deadlineMs: 3000,
    });
    expect(await outcome(wrongCert.write(entry("y", 4)))).not.toBe("OK");
    expect(ds.writes).toEqual([
      new Map([
        ["m", 1],
        ["tls", 2],
      ]),
    ]);
  });
});

describe("your own grpc.Server", () => {
  it("runs dataSourceService next to other services; idle() settles running writes", async () => {
    const { ds, registry } = fixture(async () => {
      await new Promise((r) => setImmediate(r));
    });
    const service = dataSourceService(registry, { maxStreamEntries: 5 });
    const server = new Server();
    server.addService(service.definition, service.implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      const client = clientFor({ address: `127.0.0.1:${port}` });
      await client.write(entry("own", 1));
      expect(await outcome(client.writeStream(Array.from({ length: 6 }, (_, i) => entry(`k${i}`, i))))).toBe(
        "RESOURCE_EXHAUSTED",
      );
    } finally {
      server.forceShutdown();
      await service.idle();
    }
    expect(ds.writes).toEqual([new Map([["own", 1]])]);
  });
});
