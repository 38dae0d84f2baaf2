/**
 * DataSourceClient against servers that misbehave at the HTTP/2 level:
 * peers that never speak or hang up, resets, refusals and GOAWAY, answers
 * that come early or are not gRPC, floods of calls, close() while
 * connecting. Each server is a raw node:http2 (or node:net) server.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import {
  constants,
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { credentials, Metadata } from "@grpc/grpc-js";
import { DataSourceClient, type WriteRequest } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { fixture, rejection, serve, tempDir, trackClient } from "./helpers.js";
import { opensslMissing, selfSigned } from "../support/tls.js";

const entry = (key: string, value = 1): WriteRequest => ({ namespace: "test", id: "recorder", key, value });
const OK_RESPONSE = Buffer.from([0, 0, 0, 0, 0]);

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Listens on 127.0.0.1:0; after the test, drops every connection and closes. */
async function listen(server: NetServer | Http2Server): Promise<string> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A raw HTTP/2 server: `handle` decides what each stream gets, once its request is read. */
async function http2Server(
  handle: (stream: ServerHttp2Stream, body: Buffer, headers: IncomingHttpHeaders) => void,
): Promise<{ address: string; server: Http2Server }> {
  const server = createHttp2Server();
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    const parts: Buffer[] = [];
    stream.on("data", (c: Buffer) => parts.push(c));
    stream.on("end", () => handle(stream, Buffer.concat(parts), headers));
  });
  return { address: await listen(server), server };
}

function answerOk(stream: ServerHttp2Stream): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(OK_RESPONSE);
}

describe("peers that do not speak gRPC", () => {
  it.each(["end", "destroy"] as const)("a peer that accepts and hangs up (%s) before SETTINGS: UNAVAILABLE, not a hang", async (how) => {
    const server = createNetServer((socket) => (how === "end" ? socket.end() : socket.destroy()));
    const address = await listen(server);
    const client = trackClient(new DataSourceClient(address, { connectTimeoutMs: 60_000 }));
    const err = await rejection(client.write(entry("k")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/connection closed before the server's SETTINGS|failed/);
    // And the next call tries again rather than waiting on the first attempt.
    expect((await rejection(client.writeStream([entry("k")]))).codeName).toBe("UNAVAILABLE");
  });

  it("waitForReady keeps its own timeout against a silent peer", async () => {
    const address = await listen(createNetServer(() => undefined));
    const client = trackClient(new DataSourceClient(address, { connectTimeoutMs: 60_000 }));
    const err = await rejection(client.waitForReady(150));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/no connection within 150 ms/);
  });

  it("close() while connecting ends the waiting calls with CANCELLED", async () => {
    const address = await listen(createNetServer(() => undefined));
    const client = new DataSourceClient(address, { connectTimeoutMs: 60_000 });
    const pending = [rejection(client.write(entry("a"))), rejection(client.writeStream([entry("b")]))];
    await new Promise((r) => setTimeout(r, 20));
    client.close();
    for (const err of await Promise.all(pending)) expect(err.codeName).toBe("CANCELLED");
    expect((await rejection(client.write(entry("c")))).codeName).toBe("CANCELLED");
  });
});

describe("what a server's HTTP/2 says becomes the right status", () => {
  const cases: [string, (s: ServerHttp2Stream) => void, string, RegExp][] = [
    ["a reset with NO_ERROR and no status", (s) => s.close(constants.NGHTTP2_NO_ERROR), "INTERNAL", /without a gRPC status/],
    ["a reset with ENHANCE_YOUR_CALM", (s) => s.close(constants.NGHTTP2_ENHANCE_YOUR_CALM), "RESOURCE_EXHAUSTED", /ENHANCE_YOUR_CALM/],
    ["a reset with INTERNAL_ERROR", (s) => s.close(constants.NGHTTP2_INTERNAL_ERROR), "INTERNAL", /HTTP\/2 error 2/],
    [
      "200 and a body but no trailers",
      (s) => {
        s.respond({ ":status": 200, "content-type": "application/grpc" });
        s.end(OK_RESPONSE);
      },
      "INTERNAL",
      /without a gRPC status/,
    ],
    ["HTTP 503", (s) => s.respond({ ":status": 503 }, { endStream: true }), "UNAVAILABLE", /HTTP 503/],
    ["HTTP 404", (s) => s.respond({ ":status": 404 }, { endStream: true }), "UNIMPLEMENTED", /HTTP 404/],
    [
      "a trailers-only status with an escaped message",
      (s) =>
        s.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "not%20found%20%E2%9C%93%" },
          { endStream: true },
        ),
      "NOT_FOUND",
      /^not found ✓%$/,
    ],
    [
      "a content type that is not gRPC",
      (s) => s.respond({ ":status": 200, "content-type": "text/html" }, { endStream: true }),
      "UNKNOWN",
      /text\/html/,
    ],
  ];

  it.each(cases)("%s", async (_, behave, codeName, details) => {
    const { address } = await http2Server((stream) => behave(stream));
    const client = trackClient(new DataSourceClient(address));
    const unary = await rejection(client.write(entry("k")));
    expect(unary.codeName).toBe(codeName);
    expect(unary.details).toMatch(details);
    const stream = await rejection(client.writeStream([entry("k")]));
    expect(stream.codeName).toBe(codeName);
  });

  it("a server that answers OK before the stream was all sent: INTERNAL, not success", async () => {
    const server = createHttp2Server();
    server.on("stream", (stream) => {
      stream.on("error", () => undefined);
      answerOk(stream); // at once, without reading the request
    });
    const address = await listen(server);
    const client = trackClient(new DataSourceClient(address));
    const never = new Promise<never>(() => undefined);
    const err = await rejection(
      client.dataSource("test", "recorder").writeStream(
        (async function* () {
          yield ["a", 1] as const;
          await never;
        })(),
      ),
    );
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toMatch(/before all entries were sent/);
  });
});

describe("refusals and GOAWAY", () => {
  it("a stream refused unprocessed (REFUSED_STREAM) is sent again, once", async () => {
    let seen = 0;
    const { address } = await http2Server((stream) => {
      seen++;
      if (seen % 2 === 1) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else answerOk(stream);
    });
    const client = trackClient(new DataSourceClient(address));
    await client.write(entry("a")); // refused, then sent again
    await client.writeStream([entry("b"), entry("c")]);
    expect(seen).toBe(4);
  });

  it("GOAWAY while 50 writes are in flight: the ones past its last stream are sent again on a new connection", async () => {
    let answered = 0;
    // As a graceful shutdown does: the last stream is the highest one the server has seen,
    // and it goes on to answer those; the client's later streams were never seen.
    let highest = 0;
    const { address, server } = await http2Server((stream) => {
      answered++;
      answerOk(stream);
      if (answered === 10) stream.session?.goaway(constants.NGHTTP2_NO_ERROR, highest);
    });
    server.on("stream", (stream) => (highest = Math.max(highest, stream.id ?? 0)));
    let connections = 0;
    server.on("session", () => connections++);
    // Ten at a time, so the client goes on opening streams after the server's GOAWAY left.
    const client = trackClient(new DataSourceClient(address, { maxConcurrentCalls: 10 }));
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.write(entry(`k${i}`))));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(answered).toBe(50); // each write once: none processed twice
    expect(connections).toBe(2); // the refused ones went on a new connection
  });
});

describe("floods", () => {
  it("20,000 concurrent writes: at most maxConcurrentCalls streams at once, all written", async () => {
    let open = 0;
    let most = 0;
    const { address } = await http2Server((stream) => {
      open++;
      most = Math.max(most, open);
      stream.on("close", () => open--);
      setImmediate(() => answerOk(stream));
    });
    const client = trackClient(new DataSourceClient(address, { maxConcurrentCalls: 64 }));
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => client.write(entry(`k${i}`))));
    expect(most).toBeLessThanOrEqual(64);
    expect(most).toBeGreaterThan(1);
    expect(() => new DataSourceClient(address, { maxConcurrentCalls: 0 })).toThrow(RangeError);
  });

  it("the default lets 150 concurrent streams through a server that allows 100 per connection", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp");
    const client = trackClient(new DataSourceClient(server.address));
    await Promise.all(Array.from({ length: 150 }, (_, i) => client.writeStream([entry(`s${i}`)])));
    expect(ds.store.size).toBe(150);
  });
});

describe.skipIf(opensslMissing)("credentials", () => {
  it("call credentials composed into TLS credentials reach the server, with ssl_target_name_override", async () => {
    const dir = tempDir();
    const srv = selfSigned(dir, "server");
    const { ServerCredentials } = await import("@grpc/grpc-js");
    const seen: string[] = [];
    const { registry } = fixture();
    const server = await serve(registry, "tcp", {
      credentials: ServerCredentials.createSsl(null, [{ private_key: srv.key, cert_chain: srv.cert }]),
      authorize: ({ metadata }) => {
        seen.push(String(metadata.get("authorization")[0]));
        return true;
      },
    });
    const callCreds = credentials.createFromMetadataGenerator((_, callback) => {
      const md = new Metadata();
      md.set("authorization", "Bearer t0ken");
      callback(null, md);
    });
    const client = trackClient(
      new DataSourceClient(server.address, {
        credentials: credentials.combineChannelCredentials(credentials.createSsl(srv.cert), callCreds),
        // The certificate names localhost; the client dials an IP address.
        channelOptions: { "grpc.ssl_target_name_override": "localhost" },
      }),
    );
    await client.write(entry("k"));
    expect(seen).toEqual(["Bearer t0ken"]);
  });
});
