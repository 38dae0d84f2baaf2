/**
 * DataSourceClient's own HTTP/2 (src/grpc/transport/h2/) against a raw-frame
 * server scripted frame by frame (h2-peer.ts): frame reassembly, CONTINUATION,
 * the HPACK dynamic table and Huffman strings, hostile frames that must end
 * the connection with the right GOAWAY, the server's stream limit and flow
 * control, refusals, GOAWAY and PING.
 *
 * Every call carries a deadline far above what it needs, only so that a hang
 * fails as DEADLINE_EXCEEDED instead of the test timing out; the assertions
 * then say it was not that.
 */
import type { JsonValue } from "type-fest";
import { DataSourceClient, type DataSourceClientError, DataStoreClient, type WriteRequest } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import { numberValue, rejection, request, stringValue, ticks, trackClient } from "./helpers.js";
import {
  ACK,
  answerAllOk,
  EMPTY_MESSAGE,
  END_HEADERS,
  END_STREAM,
  frame,
  h2Peer,
  hpack,
  huff,
  okResponse,
  type PeerConnection,
  type PeerOptions,
  PREFACE,
  type Request,
  RESPONSE_HEADERS,
  settings,
  STATUS_200,
  T,
  trailerBlock,
  words,
} from "./h2-peer.js";

/** Far above what any call here needs: only there to turn a hang into a failure. */
const BACKSTOP_MS = 10_000;

const entry = (key: string, value: JsonValue = 1): WriteRequest => ({ namespace: "test", id: "recorder", key, value });

/** The gRPC message (5-byte prefix and all) the client must send for `entry(key, value)`. */
function message(key: string, value: number | string = 1): Buffer {
  const bytes = request({
    id: "recorder",
    namespace: "test",
    key: stringValue(key),
    value: typeof value === "number" ? numberValue(value) : stringValue(value),
  });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

function client(address: string): DataSourceClient {
  return trackClient(new DataSourceClient(address, { deadlineMs: BACKSTOP_MS }));
}

/** The call's error, which must not be the backstop deadline. */
async function failure(promise: Promise<unknown>): Promise<DataSourceClientError> {
  const err = await rejection(promise);
  expect(err.codeName).not.toBe("DEADLINE_EXCEEDED");
  return err;
}

/** Response headers, the empty message, and `trailers` as one HEADERS frame ending the stream. */
function respond(connection: PeerConnection, streamId: number, trailers: Buffer, headers = RESPONSE_HEADERS): void {
  connection.send(
    frame(T.HEADERS, END_HEADERS, streamId, headers),
    frame(T.DATA, 0, streamId, EMPTY_MESSAGE),
    frame(T.HEADERS, END_HEADERS | END_STREAM, streamId, trailers),
  );
}

/**
 * A peer whose first connection reads one request and then runs `script`;
 * later connections answer OK. Returns the first call's error and the GOAWAY
 * the client sent, after checking the client recovers on a new connection.
 */
async function hostile(
  script: (connection: PeerConnection, request: Request) => void | Promise<void>,
): Promise<{ err: DataSourceClientError; goaway: { code: number; lastStreamId: number } }> {
  const peer = await h2Peer(async (connection, index) => {
    if (index > 0) return answerAllOk(connection);
    await script(connection, await connection.request());
  });
  const c = client(peer.address);
  const err = await failure(c.write(entry("k")));
  const goaway = await peer.connections[0]!.goaway();
  await peer.connections[0]!.closed; // the client hung up after its GOAWAY
  // The connection is gone, not the client: the next call dials again.
  await c.write(entry("after"));
  expect(peer.connections).toHaveLength(2);
  return { err, goaway };
}

describe("the happy path through a raw server", () => {
  it("an OK answer resolves the write; the request is what gRPC says, on streams 1 and 3", async () => {
    const peer = await h2Peer(answerAllOk);
    const c = client(peer.address);
    await c.write(entry("k"));
    await c.write(entry("k2", 2));
    expect(peer.connections).toHaveLength(1);
    const connection = peer.connections[0]!;
    expect(connection.preface).toEqual(PREFACE);
    // SETTINGS first (push disabled), and the peer's SETTINGS acknowledged.
    const first = connection.frames[0]!;
    expect(first.type).toBe(T.SETTINGS);
    expect(first.payload.toString("hex")).toMatch(/^(?:[0-9a-f]{12})*000200000000(?:[0-9a-f]{12})*$/);
    expect(connection.frames.some((f) => f.type === T.SETTINGS && f.flags === ACK)).toBe(true);
    const headers = connection.frames.filter((f) => f.type === T.HEADERS);
    expect(headers.map((f) => [f.streamId, f.flags & (END_HEADERS | END_STREAM)])).toEqual([
      [1, END_HEADERS],
      [3, END_HEADERS],
    ]);
    const body = (id: number) =>
      Buffer.concat(connection.frames.filter((f) => f.type === T.DATA && f.streamId === id).map((f) => f.payload));
    expect(body(1)).toEqual(message("k"));
    expect(body(3)).toEqual(message("k2", 2));
    const ends = connection.frames.filter((f) => f.type === T.DATA && (f.flags & END_STREAM) !== 0).map((f) => f.streamId);
    expect(ends).toEqual([1, 3]);
  });

  it("the same answer in 1-byte TCP writes (frame headers split anywhere) resolves the write", async () => {
    const peer = await h2Peer(async (connection) => {
      for (;;) {
        const r = await connection.request();
        await connection.drip(okResponse(r.streamId));
      }
    });
    const c = client(peer.address);
    await c.write(entry("k"));
    await c.write(entry("k2"));
    expect(peer.connections).toHaveLength(1);
  });
});

describe("header blocks in CONTINUATION frames", () => {
  it("response headers over HEADERS and two CONTINUATIONs (split inside a field): OK", async () => {
    const peer = await h2Peer(async (connection) => {
      const r = await connection.request();
      const block = RESPONSE_HEADERS;
      connection.send(
        frame(T.HEADERS, 0, r.streamId, block.subarray(0, 1)),
        frame(T.CONTINUATION, 0, r.streamId, block.subarray(1, 9)),
        frame(T.CONTINUATION, END_HEADERS, r.streamId, block.subarray(9)),
        frame(T.DATA, 0, r.streamId, EMPTY_MESSAGE),
        frame(T.HEADERS, END_HEADERS | END_STREAM, r.streamId, trailerBlock(0)),
      );
    });
    await client(peer.address).write(entry("k"));
  });

  it("trailers whose grpc-message comes in a CONTINUATION: NOT_FOUND with the decoded message", async () => {
    const peer = await h2Peer(async (connection) => {
      const r = await connection.request();
      connection.send(
        frame(T.HEADERS, END_HEADERS, r.streamId, RESPONSE_HEADERS),
        frame(T.DATA, 0, r.streamId, EMPTY_MESSAGE),
        // END_STREAM on the HEADERS, END_HEADERS on its CONTINUATION (RFC 9113 §8.1).
        frame(T.HEADERS, END_STREAM, r.streamId, hpack.literal("grpc-status", "5")),
        frame(T.CONTINUATION, END_HEADERS, r.streamId, hpack.literal("grpc-message", "not%20here")),
      );
    });
    const err = await failure(client(peer.address).write(entry("k")));
    expect(err.codeName).toBe("NOT_FOUND");
    expect(err.details).toBe("not here");
  });
});

describe("the HPACK dynamic table", () => {
  it("fields indexed by one response are referred to by index in the next ones, on one connection", async () => {
    const peer = await h2Peer(async (connection) => {
      // Table after this: 62 = grpc-status: 0, 63 = content-type: application/grpc.
      const first = await connection.request();
      respond(
        connection,
        first.streamId,
        hpack.indexing("grpc-status", "0"),
        Buffer.concat([STATUS_200, hpack.indexing("content-type", "application/grpc")]),
      );
      // Order matters: 62 and 63 swapped would lose the content type or the status.
      const second = await connection.request();
      respond(connection, second.streamId, hpack.indexed(62), Buffer.concat([STATUS_200, hpack.indexed(63)]));
      // A new value under the name at 62: table becomes 62 = grpc-status: 5, 63 = grpc-status: 0, 64 = content-type.
      const third = await connection.request();
      respond(
        connection,
        third.streamId,
        Buffer.concat([hpack.indexingNamed(62, "5"), hpack.literal("grpc-message", "gone")]),
        Buffer.concat([STATUS_200, hpack.indexed(63)]),
      );
      const fourth = await connection.request();
      respond(connection, fourth.streamId, hpack.indexed(63), Buffer.concat([STATUS_200, hpack.indexed(64)]));
    });
    const c = client(peer.address);
    await c.write(entry("a"));
    await c.write(entry("b"));
    const err = await failure(c.write(entry("c")));
    expect(err.codeName).toBe("NOT_FOUND");
    expect(err.details).toBe("gone");
    await c.write(entry("d"));
    expect(peer.connections).toHaveLength(1);
  });

  it("entries are evicted by size (name + value + 32): the oldest goes when a 4037-byte entry joins a 60-byte one", async () => {
    const big = "b".repeat(4000);
    const peer = await h2Peer(async (connection, index) => {
      if (index > 0) return answerAllOk(connection);
      const first = await connection.request();
      // 60 bytes, then 4037: together past 4096, so content-type is evicted; the table is 62 = x-big.
      respond(
        connection,
        first.streamId,
        Buffer.concat([hpack.literal("grpc-status", "0"), hpack.indexing("x-big", big)]),
        Buffer.concat([STATUS_200, hpack.indexing("content-type", "application/grpc")]),
      );
      const second = await connection.request();
      respond(connection, second.streamId, Buffer.concat([hpack.literal("grpc-status", "5"), hpack.indexed(62)]));
      const third = await connection.request();
      connection.send(frame(T.HEADERS, END_HEADERS, third.streamId, Buffer.concat([STATUS_200, hpack.indexed(63)])));
    });
    const c = client(peer.address);
    await c.write(entry("a"));
    const notFound = await failure(c.write(entry("b")));
    expect(notFound.codeName).toBe("NOT_FOUND");
    expect(notFound.metadata.get("x-big")).toEqual([big]);
    const err = await failure(c.write(entry("c")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/COMPRESSION_ERROR.*index 63 is past the table/);
    expect(await peer.connections[0]!.goaway()).toEqual({ code: 0x9, lastStreamId: 0 });
  });

  it("a size update to 0 empties the table: a later reference to 62 is a COMPRESSION_ERROR", async () => {
    const peer = await h2Peer(async (connection) => {
      const first = await connection.request();
      respond(connection, first.streamId, hpack.indexing("grpc-status", "0"));
      const second = await connection.request();
      // Two updates in a row are allowed at the start of a block: down to 0 (evicting all), back to 4096.
      connection.send(
        frame(
          T.HEADERS,
          END_HEADERS,
          second.streamId,
          Buffer.concat([hpack.sizeUpdate(0), hpack.sizeUpdate(4096), STATUS_200, hpack.indexed(62)]),
        ),
      );
    });
    const c = client(peer.address);
    await c.write(entry("a"));
    const err = await failure(c.write(entry("b")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/COMPRESSION_ERROR.*index 62 is past the table/);
  });

  it.each([
    ["above the 4096 the client allows", Buffer.concat([hpack.sizeUpdate(4097), RESPONSE_HEADERS]), /above the 4096 allowed/],
    [
      "after a header field",
      Buffer.concat([STATUS_200, hpack.sizeUpdate(0), hpack.literal("content-type", "application/grpc")]),
      /after a header field/,
    ],
  ])("a table size update %s: COMPRESSION_ERROR", async (_, block, details) => {
    const { err, goaway } = await hostile((connection, r) => connection.send(frame(T.HEADERS, END_HEADERS, r.streamId, block)));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/COMPRESSION_ERROR/);
    expect(err.details).toMatch(details);
    expect(goaway.code).toBe(0x9);
  });

  it("an index past the table: UNAVAILABLE naming COMPRESSION_ERROR, and GOAWAY(COMPRESSION_ERROR)", async () => {
    const { err, goaway } = await hostile((connection, r) =>
      // Nothing was ever indexed: 62 is past the (empty) dynamic table.
      connection.send(frame(T.HEADERS, END_HEADERS, r.streamId, Buffer.concat([STATUS_200, hpack.indexed(62)]))),
    );
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/COMPRESSION_ERROR/);
    expect(err.details).toMatch(/index 62/);
    expect(goaway).toEqual({ code: 0x9, lastStreamId: 0 });
  });
});

describe("Huffman-coded strings (RFC 7541 Appendix C examples)", () => {
  it("Huffman names and values in trailers reach the status and the error's metadata", async () => {
    const peer = await h2Peer(async (connection) => {
      const r = await connection.request();
      respond(
        connection,
        r.streamId,
        Buffer.concat([
          hpack.literal("grpc-status", "5"),
          hpack.literal("grpc-message", huff("aec3771a4b")), // "private" (C.6.1)
          hpack.literal(huff("25a849e95ba97d7f"), huff("25a849e95bb8e8b4bf")), // "custom-key": "custom-value" (C.4.3)
          hpack.literal("x-host", huff("f1e3c2e5f23a6ba0ab90f4ff")), // "www.example.com" (C.4.1)
          hpack.literal("x-cache", huff("a8eb10649cbf")), // "no-cache" (C.4.2)
        ]),
        // The content type raw, and a Huffman-coded date header (C.6.1).
        Buffer.concat([
          STATUS_200,
          hpack.literal("content-type", "application/grpc"),
          hpack.literal("date", huff("d07abe941054d444a8200595040b8166e082a62d1bff")),
        ]),
      );
    });
    const err = await failure(client(peer.address).write(entry("k")));
    expect(err.codeName).toBe("NOT_FOUND");
    expect(err.details).toBe("private");
    expect(err.metadata.get("custom-key")).toEqual(["custom-value"]);
    expect(err.metadata.get("x-host")).toEqual(["www.example.com"]);
    expect(err.metadata.get("x-cache")).toEqual(["no-cache"]);
  });

  it.each([
    ["padding that is not all ones", "00"], // '0' is 00000, then 000 as padding
    ["EOS inside the string", "ffffffff"], // 30 ones are EOS
  ])("a Huffman string with %s: COMPRESSION_ERROR", async (_, hex) => {
    const { err, goaway } = await hostile((connection, r) =>
      connection.send(
        frame(T.HEADERS, END_HEADERS, r.streamId, Buffer.concat([STATUS_200, hpack.literal("content-type", huff(hex))])),
      ),
    );
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/COMPRESSION_ERROR.*Huffman/);
    expect(goaway.code).toBe(0x9);
  });
});

describe("hostile frames end the connection with the right GOAWAY", () => {
  const NO_PAYLOAD = Buffer.alloc(0);
  const cases: [string, (c: PeerConnection, r: Request) => void, number, RegExp][] = [
    [
      "a frame longer than 16384 bytes",
      (c, r) => c.send(frame(T.DATA, 0, r.streamId, Buffer.alloc(16_385))),
      0x6,
      /FRAME_SIZE_ERROR.*16385-byte frame/,
    ],
    ["DATA on stream 0", (c) => c.send(frame(T.DATA, 0, 0, EMPTY_MESSAGE)), 0x1, /PROTOCOL_ERROR.*DATA on stream 0/],
    [
      "PUSH_PROMISE (push was disabled)",
      (c, r) =>
        c.send(
          frame(T.PUSH_PROMISE, END_HEADERS, r.streamId, Buffer.concat([Buffer.from([0, 0, 0, 2]), hpack.indexed(2), hpack.indexed(4)])),
        ),
      0x1,
      /PROTOCOL_ERROR.*PUSH_PROMISE/,
    ],
    [
      "DATA between HEADERS and its CONTINUATION",
      (c, r) => c.send(frame(T.HEADERS, 0, r.streamId, STATUS_200), frame(T.DATA, 0, r.streamId, EMPTY_MESSAGE)),
      0x1,
      /PROTOCOL_ERROR.*between HEADERS and its CONTINUATION/,
    ],
    [
      "PING between HEADERS and its CONTINUATION",
      (c, r) => c.send(frame(T.HEADERS, 0, r.streamId, STATUS_200), frame(T.PING, 0, 0, Buffer.alloc(8))),
      0x1,
      /PROTOCOL_ERROR.*between HEADERS and its CONTINUATION/,
    ],
    [
      "a CONTINUATION flood past 512 KiB",
      (c, r) => {
        c.send(frame(T.HEADERS, 0, r.streamId, STATUS_200));
        const part = frame(T.CONTINUATION, 0, r.streamId, Buffer.alloc(16_384));
        for (let i = 0; i < 40; i++) c.send(part); // 640 KiB, never END_HEADERS
      },
      0xb,
      /ENHANCE_YOUR_CALM.*header block over 524288 bytes/,
    ],
    [
      "a WINDOW_UPDATE that takes the connection's window past 2^31-1",
      (c) => c.send(words(T.WINDOW_UPDATE, 0, 0x7fffffff)),
      0x3,
      /FLOW_CONTROL_ERROR.*connection's window/,
    ],
    [
      "HEADERS on a stream the client never opened",
      (c) => c.send(frame(T.HEADERS, END_HEADERS, 99, RESPONSE_HEADERS)),
      0x1,
      /PROTOCOL_ERROR.*stream 99/,
    ],
    [
      "HEADERS on an even (server-initiated) stream",
      (c) => c.send(frame(T.HEADERS, END_HEADERS, 2, RESPONSE_HEADERS)),
      0x1,
      /PROTOCOL_ERROR.*HEADERS on stream 2/,
    ],
    [
      "a CONTINUATION with no HEADERS before it",
      (c, r) => c.send(frame(T.CONTINUATION, END_HEADERS, r.streamId, RESPONSE_HEADERS)),
      0x1,
      /PROTOCOL_ERROR.*CONTINUATION without the HEADERS/,
    ],
    [
      "SETTINGS with an initial window above 2^31-1",
      (c) => c.send(settings([0x4, 0x80000000])),
      0x3,
      /FLOW_CONTROL_ERROR.*initial window/,
    ],
    [
      "a PING that is not 8 bytes",
      (c) => c.send(frame(T.PING, 0, 0, Buffer.alloc(7))),
      0x6,
      /FRAME_SIZE_ERROR.*PING/,
    ],
    [
      "padding longer than the DATA frame",
      (c, r) =>
        c.send(frame(T.HEADERS, END_HEADERS, r.streamId, RESPONSE_HEADERS), frame(T.DATA, 0x8, r.streamId, Buffer.from([5, 0, 0]))),
      0x1,
      /PROTOCOL_ERROR.*padding/,
    ],
    [
      "SETTINGS on a stream",
      (c) => c.send(frame(T.SETTINGS, 0, 1, NO_PAYLOAD)),
      0x1,
      /PROTOCOL_ERROR.*SETTINGS on a stream/,
    ],
  ];

  it.each(cases)("%s", async (_, script, code, details) => {
    const { err, goaway } = await hostile(script);
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/connection to the server was lost/);
    expect(err.details).toMatch(details);
    expect(goaway).toEqual({ code, lastStreamId: 0 });
  });

  it("a server whose first bytes are not SETTINGS (HTTP/1.1 400): UNAVAILABLE, not a gRPC server, GOAWAY(PROTOCOL_ERROR)", async () => {
    const options: PeerOptions = { greeting: Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n", "latin1") };
    const peer = await h2Peer(() => undefined, options);
    const c = client(peer.address);
    const err = await failure(c.write(entry("k")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/did not begin with HTTP\/2 SETTINGS/);
    expect(err.details).toMatch(/gRPC server/);
    const connection = peer.connections[0]!;
    expect(await connection.goaway()).toEqual({ code: 0x1, lastStreamId: 0 });
    // It never got as far as a request.
    expect(connection.frames.filter((f) => f.type === T.HEADERS)).toEqual([]);
    // And the next call tries again rather than reusing the failure.
    expect((await failure(c.write(entry("k")))).codeName).toBe("UNAVAILABLE");
    expect(peer.connections).toHaveLength(2);
  });
});

describe("the server's SETTINGS and flow control", () => {
  it("MAX_CONCURRENT_STREAMS=1: 20 concurrent writes all succeed, never two streams open at once", async () => {
    let open = 0;
    let maxOpen = 0;
    let headersSeen = 0;
    const keys: string[] = [];
    const peer = await h2Peer(
      async (connection) => {
        connection.onFrame((f) => {
          if (f.type !== T.HEADERS) return;
          headersSeen++;
          maxOpen = Math.max(maxOpen, ++open);
        });
        for (;;) {
          const r = await connection.request();
          keys.push(r.body.toString("latin1"));
          await ticks(2); // time for a client that ignored the limit to open another stream
          open--; // closed by the END_STREAM about to go out
          connection.send(okResponse(r.streamId));
        }
      },
      { settings: [[0x3, 1]] },
    );
    const c = client(peer.address);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => c.write(entry(`k${i}`))));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(headersSeen).toBe(20);
    expect(maxOpen).toBe(1);
    expect(peer.connections).toHaveLength(1);
    const ids = peer.connections[0]!.frames.filter((f) => f.type === T.HEADERS).map((f) => f.streamId);
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + 1));
    expect(new Set(keys).size).toBe(20);
  });

  it("INITIAL_WINDOW_SIZE=10 and 10-byte WINDOW_UPDATEs: a 200-byte value arrives whole, never past the window", async () => {
    const value = "v".repeat(200);
    let credit = 10; // what the server allowed the stream to send
    let minCredit = credit;
    let dataFrames = 0;
    let body: Buffer | undefined;
    const peer = await h2Peer(
      async (connection) => {
        connection.onFrame((f) => {
          if (f.type !== T.DATA || f.payload.length === 0) return;
          dataFrames++;
          credit -= f.payload.length;
          minCredit = Math.min(minCredit, credit);
          if ((f.flags & END_STREAM) === 0) {
            credit += 10;
            connection.send(words(T.WINDOW_UPDATE, f.streamId, 10), words(T.WINDOW_UPDATE, 0, 10));
          }
        });
        const r = await connection.request();
        body = r.body;
        connection.send(okResponse(r.streamId));
      },
      { settings: [[0x4, 10]] },
    );
    await client(peer.address).write(entry("k", value));
    const expected = message("k", value);
    expect(body).toEqual(expected);
    expect(body![0]).toBe(0);
    expect(body!.readUInt32BE(1)).toBe(body!.length - 5);
    expect(body!.includes(Buffer.from(value))).toBe(true);
    expect(minCredit).toBeGreaterThanOrEqual(0);
    expect(dataFrames).toBeGreaterThanOrEqual(Math.ceil(expected.length / 10));
  });

  it("a PING gets a PING ACK with the same 8 bytes; a PING ACK gets nothing", async () => {
    let ackPayload: Buffer | undefined;
    const peer = await h2Peer(async (connection) => {
      const r = await connection.request();
      connection.send(frame(T.PING, ACK, 0, Buffer.from("unasked!")), frame(T.PING, 0, 0, Buffer.from("01234567")));
      ackPayload = (await connection.frame((f) => f.type === T.PING)).payload;
      connection.send(okResponse(r.streamId));
    });
    await client(peer.address).write(entry("k"));
    expect(ackPayload).toEqual(Buffer.from("01234567"));
    const pings = peer.connections[0]!.frames.filter((f) => f.type === T.PING);
    expect(pings.map((f) => [f.flags, f.payload.toString("latin1")])).toEqual([[ACK, "01234567"]]);
  });
});

describe("refusals and GOAWAY", () => {
  it("RST_STREAM(REFUSED_STREAM) on the first attempt: sent again, the same bytes, and OK", async () => {
    const seen: Request[] = [];
    const peer = await h2Peer(async (connection) => {
      const first = await connection.request();
      seen.push(first);
      connection.send(words(T.RST_STREAM, first.streamId, 0x7));
      const second = await connection.request();
      seen.push(second);
      connection.send(okResponse(second.streamId));
    });
    await client(peer.address).write(entry("k"));
    expect(seen.map((r) => r.streamId)).toEqual([1, 3]);
    expect(seen[0]!.body).toEqual(message("k"));
    expect(seen[1]!.body).toEqual(message("k"));
  });

  it("refused twice: sent again only once, then UNAVAILABLE naming REFUSED_STREAM", async () => {
    let refused = 0;
    const peer = await h2Peer(async (connection) => {
      for (;;) {
        const r = await connection.request();
        refused++;
        connection.send(words(T.RST_STREAM, r.streamId, 0x7));
      }
    });
    const err = await failure(client(peer.address).write(entry("k")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/REFUSED_STREAM/);
    expect(refused).toBe(2);
  });

  it("GOAWAY with last stream 0 before answering: sent again on a new connection, and OK", async () => {
    const bodies: Buffer[] = [];
    const peer = await h2Peer(async (connection, index) => {
      const r = await connection.request();
      bodies.push(r.body);
      if (index === 0) connection.send(words(T.GOAWAY, 0, 0, 0x0));
      else connection.send(okResponse(r.streamId));
    });
    await client(peer.address).write(entry("k"));
    expect(peer.connections).toHaveLength(2);
    expect(bodies).toEqual([message("k"), message("k")]);
    // The first connection, left with no streams, is closed by the client with its own GOAWAY.
    const first = peer.connections[0]!;
    expect(await first.goaway()).toEqual({ code: 0x0, lastStreamId: 0 });
    await first.closed;
  });

  it("GOAWAY with last stream 1 while stream 1 is in flight: it finishes OK, then the client closes that connection", async () => {
    const peer = await h2Peer(async (connection, index) => {
      if (index > 0) return answerAllOk(connection);
      const r = await connection.request();
      connection.send(words(T.GOAWAY, 0, 1, 0x0)); // graceful: stream 1 will still be answered
      await ticks(2);
      connection.send(okResponse(r.streamId));
    });
    const c = client(peer.address);
    await c.write(entry("k"));
    const first = peer.connections[0]!;
    // Done with its last stream, the connection is closed rather than left open (and holding the process).
    const outcome = await Promise.race([
      first.closed.then(() => "closed"),
      new Promise((resolve) => setTimeout(() => resolve("still open"), BACKSTOP_MS).unref()),
    ]);
    expect(outcome).toBe("closed");
    expect((await first.goaway()).code).toBe(0x0);
    // New calls go to a new connection.
    await c.write(entry("k2"));
    expect(peer.connections).toHaveLength(2);
    // Stream 1 was under the GOAWAY's last stream: answered there, never sent again.
    expect(first.frames.filter((f) => f.type === T.HEADERS)).toHaveLength(1);
    expect(peer.connections[1]!.frames.filter((f) => f.type === T.HEADERS)).toHaveLength(1);
  });
});

describe("padding and priority", () => {
  it("padded, prioritized HEADERS and padded DATA: OK", async () => {
    const peer = await h2Peer(async (connection) => {
      const r = await connection.request();
      const PADDED = 0x8;
      const PRIORITY = 0x20;
      const padding = Buffer.alloc(7);
      connection.send(
        frame(
          T.HEADERS,
          END_HEADERS | PADDED | PRIORITY,
          r.streamId,
          Buffer.concat([Buffer.from([7]), Buffer.from([0, 0, 0, 0, 15]), RESPONSE_HEADERS, padding]),
        ),
        frame(T.DATA, PADDED, r.streamId, Buffer.concat([Buffer.from([7]), EMPTY_MESSAGE, padding])),
        frame(T.HEADERS, END_HEADERS | END_STREAM | PADDED, r.streamId, Buffer.concat([Buffer.from([7]), trailerBlock(0), padding])),
      );
    });
    await client(peer.address).write(entry("k"));
  });
});

describe("floods", () => {
  it("a flood of empty CONTINUATION frames past 512 KiB on the wire ends the connection (ENHANCE_YOUR_CALM)", async () => {
    // Empty fragments add no bytes to the block, but their frame headers count:
    // otherwise each one kept costs memory and the call waits forever.
    const { err, goaway } = await hostile((c, r) => {
      c.send(frame(T.HEADERS, 0, r.streamId, STATUS_200));
      const empty = frame(T.CONTINUATION, 0, r.streamId);
      c.send(Buffer.concat(Array.from({ length: 65_536 }, () => empty))); // 576 KiB, never END_HEADERS
    });
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/ENHANCE_YOUR_CALM/);
    expect(goaway).toEqual({ code: 0xb, lastStreamId: 0 });
  });

  it("a server that floods PINGs and never reads the answers: the connection ends (ENHANCE_YOUR_CALM), memory stays bounded", async () => {
    const peer = await h2Peer(async (connection) => {
      await connection.request();
      connection.pauseReading();
      // 24 MiB of PINGs: the client's answers can only pile up on its side.
      const ping = frame(T.PING, 0, 0, Buffer.alloc(8, 7));
      const chunk = Buffer.concat(Array.from({ length: 16_384 }, () => ping));
      for (let i = 0; i < 96 && !connection.isClosed; i++) {
        connection.send(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    const err = await failure(client(peer.address).write(entry("k")));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.details).toMatch(/ENHANCE_YOUR_CALM.*PING/);
  });
});

describe("responses that end badly or early (review findings)", () => {
  const stores = (address: string) => trackClient(new DataStoreClient(address, { deadlineMs: BACKSTOP_MS }));
  /** A ListSources response message naming `sources` (field 1, repeated string). */
  const sourcesMessage = (...sources: string[]) => {
    const body = Buffer.concat(sources.map((s) => Buffer.concat([Buffer.from([0x0a, s.length]), Buffer.from(s)])));
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    return Buffer.concat([prefix, body]);
  };

  it("an OK status after a message cut short is INTERNAL, not an empty answer", async () => {
    const peer = await h2Peer(async (c) => {
      const whole = sourcesMessage("source-one");
      const r1 = await c.request();
      c.send(
        frame(T.HEADERS, END_HEADERS, r1.streamId, RESPONSE_HEADERS),
        frame(T.DATA, 0, r1.streamId, whole),
        frame(T.HEADERS, END_HEADERS | END_STREAM, r1.streamId, trailerBlock(0)),
      );
      const r2 = await c.request();
      c.send(
        frame(T.HEADERS, END_HEADERS, r2.streamId, RESPONSE_HEADERS),
        frame(T.DATA, 0, r2.streamId, whole.subarray(0, whole.length - 3)),
        frame(T.HEADERS, END_HEADERS | END_STREAM, r2.streamId, trailerBlock(0)),
      );
    });
    const client = stores(peer.address);
    expect(await client.listSources({ store: "s" })).toEqual(["source-one"]);
    const err = await failure(client.listSources({ store: "s" }));
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toMatch(/inside a message/);
  });

  it("a second response message fails a unary call at once, while the server keeps sending", async () => {
    const peer = await h2Peer(async (c) => {
      const r = await c.request();
      c.send(frame(T.HEADERS, END_HEADERS, r.streamId, RESPONSE_HEADERS));
      // Messages without end, never trailers: only the client can end this call.
      const message = sourcesMessage("x".repeat(100));
      const burst = frame(T.DATA, 0, r.streamId, Buffer.concat(Array.from({ length: 100 }, () => message)));
      for (let i = 0; i < 50 && !c.isClosed; i++) {
        c.send(burst);
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    const err = await failure(stores(peer.address).listSources({ store: "s" }));
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toMatch(/more than one response message/);
  });

  it("trailers that do not end the stream: INTERNAL, and the stream gives its slot back", async () => {
    const peer = await h2Peer(
      async (c) => {
        const r1 = await c.request();
        c.send(
          frame(T.HEADERS, END_HEADERS, r1.streamId, RESPONSE_HEADERS),
          frame(T.DATA, 0, r1.streamId, EMPTY_MESSAGE),
          frame(T.HEADERS, END_HEADERS, r1.streamId, trailerBlock(0)),
        );
        const r2 = await c.request();
        c.send(okResponse(r2.streamId));
      },
      { settings: [[0x3, 1]] }, // MAX_CONCURRENT_STREAMS 1
    );
    const c = client(peer.address);
    const err = await failure(c.write(entry("k")));
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toMatch(/second header block without ending the stream/);
    await c.write(entry("k2")); // would wait for the held slot until the backstop
    const connection = peer.connections[0]!;
    const reset = await connection.frame((f) => f.type === T.RST_STREAM && f.streamId === 1);
    expect(reset.payload.readUInt32BE(0)).toBe(0x8); // CANCEL
  });

  it("a server that answers before the request is sent (its window is 0): OK, the rest of the request is reset, not left waiting", async () => {
    const peer = await h2Peer(
      async (c) => {
        const headers = await c.frame((f) => f.type === T.HEADERS && f.streamId === 1);
        c.send(okResponse(headers.streamId));
        const r2 = await c.frame((f) => f.type === T.HEADERS && f.streamId === 3);
        c.send(okResponse(r2.streamId));
      },
      { settings: [[0x3, 1], [0x4, 0]] }, // one stream at a time, no window for request bytes
    );
    const c = client(peer.address);
    await c.write(entry("k"));
    await c.write(entry("k2")); // needs the slot stream 1 held
    const connection = peer.connections[0]!;
    const reset = await connection.frame((f) => f.type === T.RST_STREAM && f.streamId === 1);
    expect(reset.payload.readUInt32BE(0)).toBe(0x8);
    // Not one byte of stream 1's request went out, END_STREAM included.
    expect(connection.frames.filter((f) => f.type === T.DATA && f.streamId === 1)).toEqual([]);
  });
});

describe("deadlines a timer cannot hold", () => {
  it.each([2 ** 31, 30 * 24 * 3600 * 1000, Number.POSITIVE_INFINITY])("deadlineMs %d: a RangeError, not an immediate DEADLINE_EXCEEDED", async (deadlineMs) => {
    expect(() => new DataSourceClient("127.0.0.1:1", { deadlineMs })).toThrow(/deadlineMs must be .* up to 2147483647/);
    const peer = await h2Peer(answerAllOk);
    const c = trackClient(new DataSourceClient(peer.address));
    await expect(c.write(entry("k"), { deadlineMs })).rejects.toThrow(RangeError);
    await c.write(entry("k"), { deadlineMs: 2 ** 31 - 1 });
  });
});
