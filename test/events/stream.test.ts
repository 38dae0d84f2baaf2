/**
 * streamEvents against a fake Tracee (a real TraceeService over HTTP/2) on
 * TCP and a unix socket, and against a grpc-js server built from the same
 * protos: order, the request reaching the server, Tracee stopping and
 * crashing, reconnects, slow consumers, and clear errors.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials, type ServerWritableStream } from "@grpc/grpc-js";
import {
  decodeEventJson,
  type EventInput,
  isStreamEventsError,
  type StreamEventsError,
  streamEvents,
  type TraceeEvent,
} from "tracee-ds/events";
import { buildEvent, type FakeTracee, fakeTracee } from "tracee-ds/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type StreamEventsRequest,
  type StreamEventsResponse,
  TraceeServiceService,
} from "../../src/gen/tracee/v1beta1/tracee.js";

const ndjson = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8");
const samples = ndjson
  .split("\n")
  .filter((l) => l !== "")
  .map(decodeEventJson);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tds-events-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(transport: "tcp" | "unix", options: Parameters<typeof fakeTracee>[0] = {}): Promise<FakeTracee> {
  const address = transport === "tcp" ? "127.0.0.1:0" : `unix://${join(tempDir(), "tracee.sock")}`;
  const tracee = await fakeTracee({ address, ...options });
  cleanups.push(() => tracee.close());
  return tracee;
}

function open(input: EventInput): EventInput {
  cleanups.push(() => input.close());
  return input;
}

async function collect(input: EventInput, max = Number.POSITIVE_INFINITY): Promise<TraceeEvent[]> {
  const out: TraceeEvent[] = [];
  for await (const event of input) {
    out.push(event);
    if (out.length >= max) break;
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<StreamEventsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStreamEventsError(err)) throw new Error(`expected a StreamEventsError, got ${String(err)}`);
  return err;
}

describe.each(["tcp", "unix"] as const)("streamEvents from a fake Tracee over %s", (transport) => {
  it("delivers every event, in order, exactly as sent; the stream ends when Tracee ends it", async () => {
    const tracee = await start(transport, { events: ndjson });
    const events = await collect(open(streamEvents({ address: tracee.address })));
    expect(events).toEqual(samples);
  });

  it("sends the policies and the field mask to Tracee", async () => {
    const tracee = await start(transport, { events: samples.slice(0, 2) });
    await collect(open(streamEvents({ address: tracee.address, policies: ["web", "db"], mask: ["name", "workload.process.pid"] })));
    await collect(open(streamEvents({ address: tracee.address })));
    expect(tracee.calls).toEqual([
      { policies: ["web", "db"], mask: ["name", "workload.process.pid"] },
      { policies: [], mask: undefined },
    ]);
  });

  it("an unknown policy fails as Tracee fails it, and is not retried", async () => {
    const tracee = await start(transport, { events: samples, policies: ["default"] });
    const err = await failure(collect(open(streamEvents({ address: tracee.address, policies: ["nope"], reconnect: true }))));
    expect(err.codeName).toBe("UNKNOWN");
    expect(err.details).toBe("policy [nope] not found");
    expect(tracee.calls).toHaveLength(1);
  });

  it("Tracee crashing mid-stream: UNAVAILABLE after the events it sent", async () => {
    const tracee = await start(transport, { events: samples.slice(0, 3), then: "abort" });
    const received: string[] = [];
    const input = open(streamEvents({ address: tracee.address }));
    const err = await failure(
      (async () => {
        for await (const event of input) received.push(event.name);
      })(),
    );
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(received).toEqual(samples.slice(0, 3).map((e) => e.name));
  });

  it("reconnect: Tracee crashing or stopping is followed by a new stream, with backoff reported", async () => {
    const tracee = await start(transport, { events: samples.slice(0, 2), then: "abort" });
    const reconnects: number[] = [];
    const input = open(
      streamEvents({
        address: tracee.address,
        reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
        onReconnect: ({ attempt, error }) => reconnects.push(attempt) && void error,
      }),
    );
    const events = await collect(input, 6);
    expect(events.map((e) => e.name)).toEqual([...samples.slice(0, 2), ...samples.slice(0, 2), ...samples.slice(0, 2)].map((e) => e.name));
    expect(tracee.connections).toBeGreaterThanOrEqual(3);
    // Each stream delivered events, so the backoff starts over every time.
    expect(reconnects.slice(0, 2)).toEqual([1, 1]);
  });

  it("a slow consumer with drop-newest drops and counts, holding at most the queue's capacity", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => buildEvent("openat", { data: { n: i } }));
    const tracee = await start(transport, { events: many });
    const input = open(streamEvents({ address: tracee.address, queue: { capacity: 50, overflow: "drop-newest" } }));
    const iterator = input[Symbol.asyncIterator]();
    const first = await iterator.next(); // then read nothing while the rest arrives
    expect(first.done).toBe(false);
    await vi.waitFor(() => expect(input.stats().received).toBe(3000), { timeout: 15_000 });
    const stats = input.stats();
    expect(stats.queued).toBe(50);
    expect(stats.dropped).toBe(3000 - 1 - 50);
    let rest = 0;
    for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) rest++;
    expect(rest).toBe(50);
  });

  it("block: a consumer that stops reading holds Tracee back instead of queueing everything", async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => buildEvent("openat", { data: { n: i, pad: "x".repeat(200) } }));
    const tracee = await start(transport, { events: many });
    const input = open(streamEvents({ address: tracee.address, queue: { capacity: 100 } }));
    const iterator = input[Symbol.asyncIterator]();
    await iterator.next();
    // Wait until reception stops growing: HTTP/2 flow control stops the server.
    let last = -1;
    for (let still = 0; still < 5; ) {
      await new Promise((r) => setTimeout(r, 20));
      const now = input.stats().received;
      still = now === last ? still + 1 : 0;
      last = now;
    }
    expect(input.stats().received).toBeLessThan(2000);
    expect(input.stats().dropped).toBe(0);
    let count = 1;
    for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) count++;
    expect(count).toBe(20_000);
  });

  it("close() and break end the iteration and cancel the call", async () => {
    const tracee = await start(transport, { events: samples, then: "hold" });
    const input = open(streamEvents({ address: tracee.address }));
    expect(await collect(input, 3)).toHaveLength(3); // break after 3
    const other = open(streamEvents({ address: tracee.address }));
    const pending = collect(other);
    await vi.waitFor(() => expect(other.stats().received).toBe(samples.length));
    await other.close();
    expect(await pending).toHaveLength(samples.length);
    const aborted = new AbortController();
    const third = open(streamEvents({ address: tracee.address, signal: aborted.signal }));
    const pendingThird = collect(third);
    await vi.waitFor(() => expect(third.stats().received).toBe(samples.length));
    aborted.abort();
    expect(await pendingThird).toHaveLength(samples.length);
  });

  it("hold: events sent later arrive in order after the first ones", async () => {
    const tracee = await start(transport, { events: samples.slice(0, 2), then: "hold" });
    const input = open(streamEvents({ address: tracee.address }));
    const iterator = input[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.name).toBe(samples[0]?.name);
    tracee.send(samples.slice(2, 4));
    tracee.end();
    const rest: string[] = [];
    for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) rest.push(r.value.name);
    expect(rest).toEqual(samples.slice(1, 4).map((e) => e.name));
  });
});

describe("streamEvents errors", () => {
  it("a missing socket: UNAVAILABLE, ENOENT, a message that says what to check", async () => {
    const address = `unix://${join(tempDir(), "tracee.sock")}`;
    const err = await failure(collect(open(streamEvents({ address }))));
    expect(err.codeName).toBe("UNAVAILABLE");
    expect(err.errno).toBe("ENOENT");
    expect(err.details).toBe(`no socket at ${address} (ENOENT): is the server running, and is this its address?`);
  });

  it("a bad address throws at once", () => {
    expect(() => streamEvents({ address: "not an address" })).toThrow(TypeError);
  });

  it.skipIf(process.getuid?.() === 0)("a socket the user may not open: EACCES, not retried", async () => {
    const tracee = await fakeTracee({ address: `unix://${join(tempDir(), "tracee.sock")}` });
    cleanups.push(() => tracee.close());
    chmodSync(tracee.address.slice("unix://".length), 0o000);
    const err = await failure(collect(open(streamEvents({ address: tracee.address, reconnect: true }))));
    expect(err.errno).toBe("EACCES");
  });

  it("reconnect gives up after maxAttempts with the last error", async () => {
    const address = `unix://${join(tempDir(), "tracee.sock")}`;
    const attempts: number[] = [];
    const err = await failure(
      collect(
        open(
          streamEvents({
            address,
            reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
            onReconnect: ({ attempt }) => void attempts.push(attempt),
          }),
        ),
      ),
    );
    expect(attempts).toEqual([1, 2, 3]);
    expect(err.errno).toBe("ENOENT");
  });
});

describe("streamEvents from a grpc-js TraceeService", () => {
  it("reads what a grpc-js server built from the same protos sends, and it gets the request", async () => {
    const requests: StreamEventsRequest[] = [];
    const server = new Server();
    server.addService(TraceeServiceService, {
      streamEvents(call: ServerWritableStream<StreamEventsRequest, StreamEventsResponse>) {
        requests.push(call.request);
        for (const event of samples) call.write({ event });
        call.end();
      },
      getEventDefinitions: () => undefined,
      getDetectorsCatalog: () => undefined,
      enableEvent: () => undefined,
      disableEvent: () => undefined,
      getVersion: () => undefined,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanups.push(() => server.forceShutdown());
    const events = await collect(open(streamEvents({ address: `127.0.0.1:${port}`, policies: ["p"], mask: ["name"] })));
    expect(events).toEqual(samples);
    expect(requests).toEqual([{ policies: ["p"], mask: ["name"] }]);
  });
});
