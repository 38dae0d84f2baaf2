/**
 * How a WriteStream call ends on the server, whatever happens meanwhile: it
 * always answers (or sees its client go), always gives its slot back, and is
 * counted once, the way it really ended.
 */
import { Status } from "tracee-ds/grpc";
import { describe, expect, it, vi } from "vitest";
import { deferred, fixture, RawClient, request, sendFrame, serve, stringValue, TRANSPORTS } from "./helpers.js";

const entry = (key: string, id = "recorder") =>
  request({ namespace: "test", id, key: stringValue(key), value: stringValue("x") });

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
