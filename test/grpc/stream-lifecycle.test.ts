/**
 * How a WriteStream call ends on the server, whatever happens meanwhile: it
 * always answers (or sees its client go), always gives its slot back, and is
 * counted once, the way it really ended.
 */
import { Status } from "tracee-ds/grpc";
import { describe, expect, it, vi } from "vitest";
import {
  deferred,
  fixture,
  RawClient,
  request,
  sendFrame,
  serve,
  serveObserved,
  stringValue,
  TRANSPORTS,
} from "./helpers.js";
import { recordingLogger } from "./logging.js";

const entry = (key: string, id = "recorder", value = "x") =>
  request({ namespace: "test", id, key: stringValue(key), value: stringValue(value) });

describe.each(TRANSPORTS)("a stream's end over %s", (transport) => {
  it("an async authorize slower than streamIdleTimeoutMs, with a bad entry queued: answered with that entry's failure, slot freed", async () => {
    const verdict = deferred<boolean>();
    const asked = deferred();
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, {
      streamIdleTimeoutMs: 300,
      authorize: () => {
        asked.resolve();
        return verdict.promise;
      },
    });
    const { call, outcome } = new RawClient(server.address).open();
    // The second entry names a second data source: a failure, queued while
    // the hook answers (both are sent together, well within the idle limit).
    await Promise.all([sendFrame(call, entry("a")), sendFrame(call, entry("b", "other"))]);
    await asked.promise;
    // The hook never answers in time; the idle limit ends the stream with the failure it had.
    expect(await outcome).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^entry 1: names data source \(namespace: test, id: other\)/) as string,
    });
    expect(server.stats()).toMatchObject({ openStreams: 0, bufferedBytes: 0, failedStreams: 1 });
    // The failure was the reason, not the idle limit.
    expect(server.stats().limitsExceeded.streamIdleTimeoutMs).toBe(0);
    // The hook answering late changes nothing.
    verdict.resolve(true);
    await new Promise((r) => setImmediate(r));
    expect(server.stats()).toMatchObject({ openStreams: 0, committedStreams: 0, failedStreams: 1, droppedStreams: 0 });
    expect(ds.writes).toEqual([]);
  });

  it("an async authorize slower than streamIdleTimeoutMs, nothing wrong: DEADLINE_EXCEEDED, counted as the idle limit", async () => {
    const verdict = deferred<boolean>();
    const asked = deferred();
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, {
      streamIdleTimeoutMs: 100,
      authorize: () => {
        asked.resolve();
        return verdict.promise;
      },
    });
    const { call, outcome } = new RawClient(server.address).open();
    await sendFrame(call, entry("a"));
    await asked.promise;
    call.end();
    expect((await outcome).code).toBe(Status.DEADLINE_EXCEEDED);
    verdict.resolve(true);
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(0));
    expect(server.stats()).toMatchObject({ failedStreams: 1, committedStreams: 0 });
    expect(server.stats().limitsExceeded.streamIdleTimeoutMs).toBe(1);
    expect(ds.writes).toEqual([]);
  });
});

describe.each(TRANSPORTS)("how a stream's end is counted, over %s", (transport) => {
  it("a stream grpc-js fails itself (a message over maxMessageBytes) is failed, not dropped, and logged", async () => {
    const { logger, warnings } = recordingLogger();
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, { maxMessageBytes: 1000, logger });
    const { call, outcome } = new RawClient(server.address).open();
    await sendFrame(call, entry("a"));
    void sendFrame(call, entry("b", "recorder", "y".repeat(2000))).catch(() => undefined);
    const out = await outcome;
    expect(out.code).toBe(Status.RESOURCE_EXHAUSTED);
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(0));
    expect(server.stats()).toMatchObject({ bufferedBytes: 0, failedStreams: 1, droppedStreams: 0 });
    expect(ds.writes).toEqual([]);
    const warned = warnings.find((w) => w.msg.startsWith("stream ended by grpc-js"));
    expect(warned?.fields).toMatchObject({
      status: "RESOURCE_EXHAUSTED",
      details: out.details,
      namespace: "test",
      id: "recorder",
      peer: expect.any(String) as string,
    });
  });

  for (const outcomeOfWrite of ["committed", "failed"] as const) {
    it(`a cancel that arrives while the data source write runs is counted by the write's result (${outcomeOfWrite})`, async () => {
      const started = deferred();
      const release = deferred();
      const { ds, registry } = fixture(async () => {
        started.resolve();
        await release.promise;
        if (outcomeOfWrite === "failed") throw new Error("disk full");
      });
      const { address, service, firstStream } = await serveObserved(registry, transport);
      const { call, outcome } = new RawClient(address).open();
      await sendFrame(call, entry("a"));
      call.end();
      const observed = await firstStream;
      await started.promise;
      call.cancel();
      expect((await outcome).code).toBe(Status.CANCELLED);
      expect(await observed.settled).toBe("dropped"); // the server saw the cancel, mid-write
      release.resolve();
      await vi.waitFor(() => expect(service.stats().openStreams).toBe(0));
      expect(service.stats()).toMatchObject({
        committedStreams: outcomeOfWrite === "committed" ? 1 : 0,
        failedStreams: outcomeOfWrite === "failed" ? 1 : 0,
        droppedStreams: 0,
      });
      expect(ds.writes.length).toBe(outcomeOfWrite === "committed" ? 1 : 0);
    });
  }

  it("a cancel while the write waits its turn behind another write is dropped: nothing of it is written", async () => {
    const started = deferred();
    const release = deferred();
    let writes = 0;
    const { ds, registry } = fixture(async () => {
      if (writes++ > 0) return;
      started.resolve();
      await release.promise;
    });
    const { address, service, firstStream } = await serveObserved(registry, transport);
    const raw = new RawClient(address);
    // A unary write holds the data source's turn.
    const unary = raw.unary(entry("a"));
    await started.promise;
    // A complete stream, queued behind it (or about to be), then cancelled.
    const { call, outcome } = raw.open();
    await sendFrame(call, entry("b"));
    call.end();
    const observed = await firstStream;
    await observed.received(1);
    call.cancel();
    expect((await outcome).code).toBe(Status.CANCELLED);
    expect(await observed.settled).toBe("dropped"); // the server saw the cancel before the stream's turn
    release.resolve();
    expect(await unary).toEqual({ code: 0, details: "" });
    await vi.waitFor(() => expect(service.stats().openStreams).toBe(0));
    expect(service.stats()).toMatchObject({ committedStreams: 0, failedStreams: 0, droppedStreams: 1 });
    expect(ds.writes.map((w) => [...w.keys()])).toEqual([["a"]]);
  });
});
