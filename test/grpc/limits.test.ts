/**
 * Each resource limit refuses with its status, writes nothing, is counted in
 * stats(), and frees what the stream held.
 */
import { dataSourceService, type LimitName, Status } from "tracee-ds/grpc";
import { describe, expect, it, vi } from "vitest";
import {
  fixture,
  numberValue,
  RawClient,
  request,
  sendFrame,
  serve,
  stringValue,
  TRANSPORTS,
} from "./helpers.js";
import { recordingLogger } from "./logging.js";

const entry = (key: string, value = "x") =>
  request({ namespace: "test", id: "recorder", key: stringValue(key), value: stringValue(value) });

function only(limit: LimitName, count: number): Record<LimitName, number> {
  return {
    maxStreamEntries: 0,
    maxStreamBytes: 0,
    maxServerBufferedBytes: 0,
    streamIdleTimeoutMs: 0,
    maxConcurrentStreams: 0,
    maxStreamsPerConnection: 0,
    [limit]: count,
  };
}

describe.each(TRANSPORTS)("limits over %s", (transport) => {
  it("maxStreamBytes: a stream that grows past it is refused with RESOURCE_EXHAUSTED, nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, { maxStreamBytes: 1000 });
    const raw = new RawClient(server.address);
    // Under the limit: written.
    expect(await raw.stream([entry("a", "y".repeat(400)), entry("b", "y".repeat(400))])).toEqual({ code: 0, details: "" });
    // Past it: refused, whatever came before.
    const out = await raw.stream([entry("c", "y".repeat(400)), entry("d", "y".repeat(400)), entry("e", "y".repeat(400))]);
    expect(out).toEqual({
      code: Status.RESOURCE_EXHAUSTED,
      details: "stream holds more than 1000 bytes, the limit (maxStreamBytes)",
    });
    expect([...ds.store.keys()]).toEqual(["a", "b"]);
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(0));
    expect(server.stats()).toMatchObject({
      bufferedBytes: 0,
      committedStreams: 1,
      failedStreams: 1,
      limitsExceeded: only("maxStreamBytes", 1),
    });
  });

  it("streamIdleTimeoutMs: a stream with no message for that long ends DEADLINE_EXCEEDED, nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, { streamIdleTimeoutMs: 150 });
    const raw = new RawClient(server.address);
    const { call, outcome } = raw.open();
    await sendFrame(call, entry("a"));
    // A slow but steady stream is not idle: one message every 50 ms for 400 ms.
    const steady = raw.open();
    for (let i = 0; i < 8; i++) {
      await sendFrame(steady.call, entry(`s${i}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    steady.call.end();
    expect(await steady.outcome).toEqual({ code: 0, details: "" });
    expect(await outcome).toEqual({
      code: Status.DEADLINE_EXCEEDED,
      details: "no message for 150 ms, the limit (streamIdleTimeoutMs); nothing of the stream was written",
    });
    expect(ds.store.has("a")).toBe(false);
    expect(server.stats()).toMatchObject({ bufferedBytes: 0, limitsExceeded: only("streamIdleTimeoutMs", 1) });
  });

  it("maxConcurrentStreams: one stream more than the limit is refused; a slot frees when a stream ends", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, { maxConcurrentStreams: 2 });
    // Two clients, so two connections: the limit is over all of them.
    const [one, two] = [new RawClient(server.address), new RawClient(server.address)];
    const a = one.open();
    const b = two.open();
    await sendFrame(a.call, entry("a"));
    await sendFrame(b.call, entry("b"));
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(2));
    const third = await two.stream([entry("c")]);
    expect(third.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(third.details).toMatch(/maxConcurrentStreams/);
    a.call.end();
    expect(await a.outcome).toEqual({ code: 0, details: "" });
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(1));
    expect(await one.stream([entry("d")])).toEqual({ code: 0, details: "" });
    b.call.end();
    await b.outcome;
    expect([...ds.store.keys()].sort()).toEqual(["a", "b", "d"]);
    expect(server.stats().limitsExceeded).toEqual(only("maxConcurrentStreams", 1));
  });

  it("maxStreamsPerConnection: the limit is per connection; another connection is served", async () => {
    const { registry } = fixture();
    const server = await serve(registry, transport, { maxStreamsPerConnection: 1 });
    const [one, two] = [new RawClient(server.address), new RawClient(server.address)];
    const held = one.open();
    await sendFrame(held.call, entry("a"));
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(1));
    const refused = await one.stream([entry("b")]);
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/this connection has 1 streams open.*maxStreamsPerConnection/);
    expect(await two.stream([entry("c")])).toEqual({ code: 0, details: "" });
    held.call.end();
    expect(await held.outcome).toEqual({ code: 0, details: "" });
    expect(server.stats().limitsExceeded).toEqual(only("maxStreamsPerConnection", 1));
  });

  it("maxStreamEntries is counted too", async () => {
    const { registry } = fixture();
    const server = await serve(registry, transport, { maxStreamEntries: 2 });
    const out = await new RawClient(server.address).stream([entry("a"), entry("b"), entry("c")]);
    expect(out.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(server.stats().limitsExceeded).toEqual(only("maxStreamEntries", 1));
  });
});

describe.each(TRANSPORTS)("refusals are logged over %s", (transport) => {
  it("every refusal counted in limitsExceeded is logged at warn, with the limit, the data source when known and the peer", async () => {
    const { logger, warnings } = recordingLogger();
    const counted: Record<LimitName, number> = only("maxStreamEntries", 0);
    const add = (stats: { limitsExceeded: Record<LimitName, number> }) => {
      for (const [name, n] of Object.entries(stats.limitsExceeded)) counted[name as LimitName] += n;
    };
    const big = (key: string) => entry(key, "y".repeat(600)); // two are over 1000 bytes

    // Mid-stream refusals, after the first entry named the data source.
    const a = await serve(fixture().registry, transport, { logger, maxStreamEntries: 2, maxStreamBytes: 1000 });
    const rawA = new RawClient(a.address);
    expect((await rawA.stream([entry("a"), entry("b"), entry("c")])).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect((await rawA.stream([big("a"), big("b")])).code).toBe(Status.RESOURCE_EXHAUSTED);
    const b = await serve(fixture().registry, transport, { logger, maxServerBufferedBytes: 1000, streamIdleTimeoutMs: 100 });
    const rawB = new RawClient(b.address);
    expect((await rawB.stream([big("a"), big("b")])).code).toBe(Status.RESOURCE_EXHAUSTED);
    // Idle, once after an entry and once before any.
    expect((await rawB.open().outcome).code).toBe(Status.DEADLINE_EXCEEDED);
    const idle = rawB.open();
    await sendFrame(idle.call, entry("a"));
    expect((await idle.outcome).code).toBe(Status.DEADLINE_EXCEEDED);
    // Refused at admission.
    const c = await serve(fixture().registry, transport, { logger, maxConcurrentStreams: 1 });
    const d = await serve(fixture().registry, transport, { logger, maxStreamsPerConnection: 1 });
    for (const server of [c, d]) {
      const raw = new RawClient(server.address);
      const held = raw.open();
      await sendFrame(held.call, entry("held"));
      await vi.waitFor(() => expect(server.stats().openStreams).toBe(1));
      expect((await raw.stream([entry("x")])).code).toBe(Status.RESOURCE_EXHAUSTED);
      held.call.end();
      expect((await held.outcome).code).toBe(0);
    }
    for (const server of [a, b, c, d]) add(server.stats());

    const refusals = warnings.filter((w) => w.fields["limit"] !== undefined);
    for (const limit of Object.keys(counted) as LimitName[]) {
      expect(counted[limit], limit).toBeGreaterThan(0);
      expect(refusals.filter((w) => w.fields["limit"] === limit).length, limit).toBe(counted[limit]);
    }
    expect(refusals.length).toBe(Object.values(counted).reduce((x, y) => x + y, 0));
    for (const w of refusals) expect(w.fields["peer"], w.msg).toMatch(/\S/);
    // Where an entry named the data source, the line names it too.
    for (const limit of ["maxStreamEntries", "maxStreamBytes", "maxServerBufferedBytes"]) {
      expect(refusals.find((w) => w.fields["limit"] === limit)?.fields).toMatchObject({ namespace: "test", id: "recorder" });
    }
    const idleLines = refusals.filter((w) => w.fields["limit"] === "streamIdleTimeoutMs");
    expect(idleLines.map((w) => w.fields["id"]).sort()).toEqual(["recorder", undefined]);
  });
});

describe("limit options", () => {
  it("are validated: RangeError naming the option", () => {
    const { registry } = fixture();
    for (const name of [
      "maxStreamBytes",
      "maxServerBufferedBytes",
      "streamIdleTimeoutMs",
      "maxConcurrentStreams",
      "maxStreamsPerConnection",
    ] as const) {
      expect(() => dataSourceService(registry, { [name]: 0 })).toThrow(new RegExp(`^${name} must be an integer >= 1`));
      expect(() => dataSourceService(registry, { [name]: 1.5 })).toThrow(RangeError);
      expect(() => dataSourceService(registry, { [name]: Number.POSITIVE_INFINITY })).not.toThrow();
    }
    expect(() => dataSourceService(registry, { streamIdleTimeoutMs: 2 ** 31 })).toThrow(/at most 2147483647/);
  });

  it("unary writes are not held against the stream byte limits", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp", { maxServerBufferedBytes: 1, maxStreamBytes: 1 });
    const raw = new RawClient(server.address);
    const unary = request({ namespace: "test", id: "recorder", key: stringValue("u"), value: numberValue(1) });
    expect(await raw.unary(unary)).toEqual({ code: 0, details: "" });
    expect(ds.store.get("u")).toBe(1);
  });
});
