/**
 * A stream that did not finish is never written, however it fails to finish:
 * hostile and careless clients, many times over, over TCP and a unix socket.
 *
 * The raw cases use plain grpc-js calls with identity serializers, so nothing
 * of this SDK's client helps the server. Every round also runs a control
 * stream that ends properly, to show the same server does write what
 * finishes; only the controls may reach the data source.
 */
import { createServer as createHttp2Server } from "node:http2";
import type { ClientWritableStream } from "@grpc/grpc-js";
import { DataSourceRegistry } from "tracee-ds";
import { DataSourceClient, type DataSourceServer, Status } from "tracee-ds/grpc";
import { describe, expect, it, vi } from "vitest";
import {
  addressFor,
  clientFor,
  numberValue,
  RawClient,
  type RawOutcome,
  RecordingDataSource,
  rejection,
  request,
  sendFrame,
  serve,
  stringValue,
  ticks,
  trackServer,
  TRANSPORTS,
} from "./helpers.js";
import { startProxy } from "./proxy.js";

const TRIES = 200;
const BATCH = 20;
const ROUNDS = TRIES / BATCH;

const frame = (key: string, n = 1) =>
  request({ namespace: "test", id: "recorder", key: stringValue(key), value: numberValue(n) });

async function sendEntries(call: ClientWritableStream<Buffer>, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await sendFrame(call, frame(`${prefix}-${i}`, i));
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A stream that ends properly: the server must write it. */
async function control(raw: RawClient, key: string): Promise<void> {
  const { call, outcome } = raw.open();
  await sendFrame(call, frame(key));
  call.end();
  expect(await outcome).toEqual({ code: 0, details: "" });
}

/** Waits until the server has settled every stream, then returns what was written. */
async function settledWrites(server: DataSourceServer, ds: RecordingDataSource): Promise<string[]> {
  await vi.waitFor(() => expect(server.stats().openStreams).toBe(0), { timeout: 10_000 });
  return ds.writes.flatMap((w) => [...w.keys()].map(String)).sort();
}

async function fixtureServer(transport: (typeof TRANSPORTS)[number], options = {}) {
  const ds = new RecordingDataSource("test", "recorder");
  const server = await serve(new DataSourceRegistry().register(ds), transport, options);
  return { ds, server };
}

const controlKeys = (rounds: number) => Array.from({ length: rounds }, (_, r) => `control-${r}`).sort();

describe.each(TRANSPORTS)("an unfinished stream is never written, %s", (transport) => {
  it(`cancel before half-close: ${TRIES} raw streams, at every moment, nothing written`, async () => {
    const { ds, server } = await fixtureServer(transport);
    const raw = new RawClient(server.address);
    const outcomes: RawOutcome[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const { call, outcome } = raw.open();
          await sendEntries(call, `r${round}s${i}`, 1 + (i % 3));
          // Cancel at once, a turn later, or after a few milliseconds.
          if (i % 4 === 1) await ticks(1);
          else if (i % 4 === 2) await wait(1);
          else if (i % 4 === 3) await wait(5 + i);
          call.cancel();
          outcomes.push(await outcome);
        }),
      );
      await control(raw, `control-${round}`);
    }
    expect(outcomes.every((o) => o.code === Status.CANCELLED)).toBe(true);
    expect(await settledWrites(server, ds)).toEqual(controlKeys(ROUNDS));
    const stats = server.stats();
    expect(stats).toMatchObject({ committedStreams: ROUNDS, failedStreams: 0, bufferedBytes: 0 });
    // A stream reset before its handler ran never reaches the service; the
    // ones cancelled after a pause (a quarter) surely did, and were dropped.
    expect(stats.droppedStreams).toBeGreaterThanOrEqual(TRIES / 4);
    expect(stats.droppedStreams).toBeLessThanOrEqual(TRIES);
  });

  it(`cancel right after half-close: ${TRIES} raw streams, nothing written`, async () => {
    const { ds, server } = await fixtureServer(transport);
    const raw = new RawClient(server.address);
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const { call, outcome } = raw.open();
          await sendEntries(call, `r${round}s${i}`, 1 + (i % 3));
          call.end();
          if (i % 2 === 0) call.cancel();
          else queueMicrotask(() => call.cancel());
          expect((await outcome).code).toBe(Status.CANCELLED);
        }),
      );
      await control(raw, `control-${round}`);
    }
    expect(await settledWrites(server, ds)).toEqual(controlKeys(ROUNDS));
  });

  it(`the connection is destroyed mid-stream: ${TRIES} raw streams, nothing written`, async () => {
    const { ds, server } = await fixtureServer(transport);
    const proxy = await startProxy(server.address, transport);
    for (let round = 0; round < ROUNDS; round++) {
      const raw = new RawClient(proxy.address); // a channel, so a connection, of its own
      await control(raw, `control-${round}`);
      const outcomes = Array.from({ length: BATCH }, (_, i) => {
        const { call, outcome } = raw.open();
        void sendEntries(call, `r${round}s${i}`, 1 + (i % 3)).catch(() => undefined);
        return outcome;
      });
      // Every stream is open on the server, holding what arrived of it.
      await vi.waitFor(() => expect(server.stats().openStreams).toBe(BATCH), { timeout: 10_000 });
      proxy.cutAll();
      for (const outcome of await Promise.all(outcomes)) expect(outcome.code).toBe(Status.UNAVAILABLE);
      raw.client.close();
    }
    expect(proxy.accepted).toBe(ROUNDS);
    expect(await settledWrites(server, ds)).toEqual(controlKeys(ROUNDS));
    expect(server.stats().droppedStreams).toBe(TRIES);
  });

  it(`the deadline passes mid-stream (client's, or the server's alone): ${TRIES} raw streams, nothing written`, async () => {
    const { ds, server } = await fixtureServer(transport);
    const raw = new RawClient(server.address);
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const ms = 5 + 3 * i;
          // grpc-js's own deadline cancels the call like cancel() does;
          // a grpc-timeout header alone leaves it to the server.
          const { call, outcome } =
            i % 2 === 0 ? raw.open({ deadline: Date.now() + ms }) : raw.open({ serverTimeoutMs: ms });
          let ended = false;
          void outcome.then(() => (ended = true));
          // Keep sending, a message a millisecond, until the call ends.
          for (let n = 0; !ended; n++) {
            await Promise.race([sendFrame(call, frame(`r${round}s${i}-${n}`)).catch(() => undefined), outcome]);
            await wait(1);
          }
          expect((await outcome).code).toBe(Status.DEADLINE_EXCEEDED);
        }),
      );
      await control(raw, `control-${round}`);
    }
    expect(await settledWrites(server, ds)).toEqual(controlKeys(ROUNDS));
  });

  it(`DataSourceClient.close() with unfinished streams: ${TRIES} streams, each rejected, nothing written`, async () => {
    const { ds, server } = await fixtureServer(transport);
    for (let round = 0; round < ROUNDS; round++) {
      const client = new DataSourceClient(server.address);
      await client.writeStream([{ namespace: "test", id: "recorder", key: `control-${round}`, value: 1 }]);
      const stall = new Promise<void>(() => undefined); // never resolves
      const streams = Array.from({ length: BATCH }, (_, i) =>
        rejection(
          client.dataSource("test", "recorder").writeStream(
            (async function* () {
              for (let n = 0; n <= i % 3; n++) yield [`r${round}s${i}-${n}`, n] as const;
              await stall;
            })(),
          ),
        ),
      );
      await vi.waitFor(() => expect(server.stats().openStreams).toBe(BATCH), { timeout: 10_000 });
      client.close();
      for (const err of await Promise.all(streams)) expect(err.codeName).toBe("CANCELLED");
    }
    expect(await settledWrites(server, ds)).toEqual(controlKeys(ROUNDS));
  });

  it(`DataSourceClient: a stream whose later entry is refused writes nothing, ${TRIES} times under a burst of other calls`, async () => {
    const { ds, server } = await fixtureServer(transport);
    const client = clientFor(server);
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const burst = Array.from({ length: 200 }, (_, i) =>
        client.write({ namespace: "test", id: "recorder", key: `unary-${round}-${i}`, value: i }),
      );
      const aborted = new AbortController();
      // Settled (and observed) at once: their failures are expected, not the subject.
      const noise = Promise.allSettled([
        client.writeStream(
          (async function* () {
            yield { namespace: "test", id: "recorder", key: `aborted-${round}`, value: 1 };
            aborted.abort(new Error("stop"));
            yield { namespace: "test", id: "recorder", key: `aborted-${round}-b`, value: 2 };
          })(),
          { signal: aborted.signal },
        ),
        client.writeStream(
          (async function* () {
            yield { namespace: "test", id: "recorder", key: `deadlined-${round}`, value: 1 };
            await wait(50);
          })(),
          { deadlineMs: 10 },
        ),
        client.writeStream(
          (function* () {
            yield { namespace: "test", id: "recorder", key: `thrown-${round}`, value: 1 };
            throw new Error("source failed");
          })(),
        ),
      ]);
      const refused = Array.from({ length: BATCH }, (_, i) =>
        rejection(
          client.writeStream([
            { namespace: "test", id: "recorder", key: `nn1-${round}-${i}`, value: 1 },
            { namespace: "test", id: "recorder", key: `nn2-${round}-${i}`, value: Number.NaN },
          ]),
        ),
      );
      for (const err of await Promise.all(refused)) {
        if (err.codeName !== "INVALID_ARGUMENT" || !err.details.startsWith("entry 1:")) failures.push(err.message);
      }
      await Promise.all(burst);
      await noise;
    }
    expect(failures).toEqual([]);
    const written = await settledWrites(server, ds);
    // Every unary write of the bursts landed; no entry of a failed stream did.
    expect(written.filter((k) => k.startsWith("unary-"))).toHaveLength(ROUNDS * 200);
    expect(written.filter((k) => !k.startsWith("unary-"))).toEqual([]);
  });
});

/**
 * A server that behaves on the wire like Tracee's (grpc-go): it writes a
 * stream as soon as the client half-closes it (END_STREAM), and drops a
 * stream the client resets first. grpc-js servers cannot stand in for it:
 * they report a reset stream as half-closed before cancelled. Against such a
 * server the only protection is the client's: a stream it gives up on must
 * be reset, never half-closed.
 */
async function serveEager(transport: (typeof TRANSPORTS)[number]) {
  const committed: number[] = [];
  const server = createHttp2Server();
  server.on("stream", (stream) => {
    let messages = 0;
    let pending = Buffer.alloc(0);
    stream.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        pending = pending.subarray(5 + pending.readUInt32BE(1));
        messages++;
      }
    });
    stream.on("error", () => undefined);
    stream.on("end", () => {
      // Node also ends the readable side of a reset stream, after 'aborted'.
      if (stream.aborted) return;
      committed.push(messages);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  const requested = addressFor(transport);
  await new Promise<void>((resolve) => {
    if (transport === "unix") server.listen(requested.slice("unix://".length), resolve);
    else server.listen(0, "127.0.0.1", resolve);
  });
  const address = transport === "unix" ? requested : `127.0.0.1:${(server.address() as { port: number }).port}`;
  trackServer({ address, close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { address, committed };
}

describe.each(TRANSPORTS)("DataSourceClient never completes a stream it failed, %s", (transport) => {
  it(`against a server that writes at end-of-stream: ${TRIES} failed streams of five kinds, none completed`, async () => {
    const { address, committed } = await serveEager(transport);
    const entry = (key: string, value: number = 1) => ({ namespace: "test", id: "recorder", key, value });
    let controls = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const client = new DataSourceClient(address);
      await client.writeStream([entry(`control-${round}`)]);
      controls++;
      const failures = Array.from({ length: BATCH }, (_, i) => {
        const kind = i % 4;
        if (kind === 0) return rejection(client.writeStream([entry(`a${i}`), entry(`b${i}`, Number.NaN)]));
        if (kind === 1) {
          const abort = new AbortController();
          return rejection(
            client.writeStream(
              (async function* () {
                yield entry(`a${i}`);
                await wait(i);
                abort.abort();
                yield entry(`b${i}`);
              })(),
              { signal: abort.signal },
            ),
          );
        }
        if (kind === 2) {
          return rejection(
            client.writeStream(
              (async function* () {
                yield entry(`a${i}`);
                await wait(60);
              })(),
              { deadlineMs: 5 + i },
            ),
          );
        }
        return client
          .writeStream(
            (function* () {
              yield entry(`a${i}`);
              throw new Error("source failed");
            })(),
          )
          .then(
            () => "resolved",
            (e: unknown) => (e as Error).message,
          );
      });
      // And streams still open when the client closes.
      const stall = new Promise<never>(() => undefined);
      const atClose = Array.from({ length: 4 }, (_, i) =>
        rejection(
          client.writeStream(
            (async function* () {
              yield entry(`c${i}`);
              await stall;
            })(),
          ),
        ),
      );
      await wait(20);
      client.close();
      const outcomes = await Promise.all([...failures, ...atClose]);
      for (const outcome of outcomes) {
        const name = typeof outcome === "string" ? outcome : outcome.codeName;
        expect(["INVALID_ARGUMENT", "CANCELLED", "DEADLINE_EXCEEDED", "source failed"]).toContain(name);
      }
    }
    await wait(50);
    // Only the controls were ever completed on the wire.
    expect(committed).toEqual(Array.from({ length: controls }, () => 1));
  });
});
