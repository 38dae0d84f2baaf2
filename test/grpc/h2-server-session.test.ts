/**
 * The server side of our HTTP/2 on its own, under our client: a minimal
 * gRPC server that counts requests and PINGs before each answer.
 */
import { createServer, type Server } from "node:net";
import { DataSourceClient } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { encodeLiterals } from "../../src/grpc/transport/h2/hpack.js";
import { ServerSession, type ServerStream } from "../../src/grpc/transport/h2/server-session.js";
import { MessageReader } from "../../src/grpc/transport/framing.js";
import { trackClient } from "./helpers.js";

const RESPONSE = encodeLiterals([
  [":status", "200"],
  ["content-type", "application/grpc"],
]);
const OK = encodeLiterals([["grpc-status", "0"]]);
const EMPTY = Buffer.from([0, 0, 0, 0, 0]);

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function countingServer() {
  const seen = { messages: 0, calls: 0, paths: new Set<string>(), pings: [] as boolean[] };
  const sessions: ServerSession[] = [];
  const server = createServer((socket) => {
    const session = new ServerSession(
      socket,
      {
        onStream(stream: ServerStream, fields) {
          const path = fields.find(([n]) => n === ":path")?.[1] ?? "";
          seen.paths.add(path);
          const reader = new MessageReader(4 << 20);
          return {
            onData(bytes, end) {
              reader.push(bytes, () => void seen.messages++);
              stream.consumed(bytes.length);
              if (!end) return;
              seen.calls++;
              void session.ping().then((alive) => {
                seen.pings.push(alive);
                stream.respond(RESPONSE);
                stream.write(EMPTY);
                stream.finish(OK);
              });
            },
            onGone() {},
            onWritable() {},
          };
        },
        onClose() {},
      },
      { maxConcurrentStreams: 100 },
    );
    sessions.push(session);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, seen, sessions };
}

describe("ServerSession", () => {
  it("serves unary and streaming calls from our client, with a PING before each answer", async () => {
    const { address, seen } = await countingServer();
    const client = trackClient(new DataSourceClient(address, { deadlineMs: 10_000 }));
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.write({ namespace: "n", id: "d", key: `k${i}`, value: i })));
    await client.writeStream(Array.from({ length: 10_000 }, (_, i) => ({ namespace: "n", id: "d", key: `s${i}`, value: "x".repeat(100) })));
    expect(seen.calls).toBe(101);
    expect(seen.messages).toBe(10_100);
    expect(seen.pings.every(Boolean)).toBe(true);
    expect([...seen.paths].sort()).toEqual(["/tracee.v1beta1.DataSourceService/Write", "/tracee.v1beta1.DataSourceService/WriteStream"]);
  });
});
