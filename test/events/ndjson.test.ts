/**
 * readEvents: NDJSON from files, stdin, streams and iterables, in both JSON
 * shapes; malformed lines skipped, thrown or reported with their number;
 * bytes split anywhere; the overflow policies (drops counted, "block" stops
 * pulling the source); close releases the file; a missing file says so.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { decodeEventJson, decodeLegacyEventJson, legacyToEvent, type TraceeEvent } from "tracee-ds/events";
import { afterAll, describe, expect, it, vi } from "vitest";
import { type EventLineError, isEventLineError, readEvents } from "../../src/events/inputs/ndjson.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/events/${name}`, import.meta.url));
const V1_FILE = fixture("v1beta1.ndjson");
const LEGACY_FILE = fixture("legacy.ndjson");
const linesOf = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
const V1 = linesOf(V1_FILE);
const LEGACY = linesOf(LEGACY_FILE);
const fromLegacy = (line: string): TraceeEvent => legacyToEvent(decodeLegacyEventJson(line));

const dir = mkdtempSync(join(tmpdir(), "tracee-ds-ndjson-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function tempFile(text: string | Buffer): string {
  const file = join(dir, `events-${files++}.ndjson`);
  writeFileSync(file, text);
  return realpathSync(file);
}

/** Lets pending promise callbacks and I/O callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Waits for `condition`, a turn of the event loop at a time (the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn();
}

async function collect(input: AsyncIterable<TraceeEvent>): Promise<TraceeEvent[]> {
  const events: TraceeEvent[] = [];
  for await (const e of input) events.push(e);
  return events;
}

/** What a rejected iteration rejected with, and the events before it. */
async function collectUntilError(input: AsyncIterable<TraceeEvent>): Promise<{ events: TraceeEvent[]; error: unknown }> {
  const events: TraceeEvent[] = [];
  try {
    for await (const e of input) events.push(e);
  } catch (error) {
    return { events, error };
  }
  throw new Error("expected the iteration to reject");
}

/** Open file descriptors of this process pointing at `file` (Linux). */
const openFds = (file: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

/** A v1beta1 sample line with keys moved: `timestamp` last. */
const timestampLast = (line: string) => line.replace(/^\{"timestamp":([^,]*),(.*)\}$/, '{$2,"timestamp":$1}');

describe("the sample files", () => {
  it("reads every v1beta1 line, in order, as decodeEventJson does", async () => {
    const input = readEvents(V1_FILE);
    const events = await collect(input);
    expect(events.map((e) => e.name)).toEqual(V1.map((l) => decodeEventJson(l).name));
    expect(events).toEqual(V1.map(decodeEventJson));
    expect(input.stats()).toEqual({ received: 17, dropped: 0, malformed: 0, queued: 0 });
  });

  it("reads every legacy line, converted to the v1beta1 model", async () => {
    const input = readEvents(LEGACY_FILE);
    const events = await collect(input);
    expect(events).toHaveLength(14);
    expect(events).toEqual(LEGACY.map(fromLegacy));
    expect(events[0]?.name).toBe("New executable dropped");
    expect(input.stats()).toEqual({ received: 14, dropped: 0, malformed: 0, queued: 0 });
  });

  it("a forced format makes the other shape malformed", async () => {
    const asLegacy = readEvents(V1_FILE, { format: "legacy" });
    expect(await collect(asLegacy)).toEqual([]);
    expect(asLegacy.stats().malformed).toBe(17);
    const asV1 = readEvents(LEGACY_FILE, { format: "v1beta1" });
    expect(await collect(asV1)).toEqual([]);
    expect(asV1.stats().malformed).toBe(14);
    expect(await collect(readEvents(V1_FILE, { format: "v1beta1" }))).toEqual(V1.map(decodeEventJson));
    expect(await collect(readEvents(LEGACY_FILE, { format: "legacy" }))).toEqual(LEGACY.map(fromLegacy));
  });

  it("auto tells the shapes apart by their keys, in any order", async () => {
    const lines = [timestampLast(V1[0] as string), timestampLast(LEGACY[4] as string), `  ${V1[1]}`];
    expect(lines[0]?.startsWith('{"id":')).toBe(true);
    expect(lines[1]?.startsWith('{"threadStartTime":')).toBe(true);
    const events = await collect(readEvents(Readable.from([lines.join("\n")])));
    expect(events).toEqual([decodeEventJson(V1[0] as string), fromLegacy(LEGACY[4] as string), decodeEventJson(V1[1] as string)]);
  });
});

describe("malformed lines", () => {
  // Line 6 is not JSON, line 9 a legacy line with a bad field, line 12 JSON
  // that is no event; blank and CRLF lines around them.
  const MIXED = [
    V1[0],
    V1[1],
    "",
    LEGACY[0],
    `${V1[2]}\r`,
    "{not json",
    LEGACY[1],
    "   ",
    (LEGACY[2] as string).replace('"eventId":"', '"eventId":"x'),
    V1[3],
    LEGACY[3],
    '{"hello":"world"}',
    V1[4],
  ].join("\n");
  const GOOD = [V1[0], V1[1], LEGACY[0], V1[2], LEGACY[1], V1[3], LEGACY[3], V1[4]] as string[];
  const goodEvents = () => GOOD.map((l) => (l.startsWith('{"timestamp":"') ? decodeEventJson(l) : fromLegacy(l)));

  it("skip (the default) counts them and reads on", async () => {
    const input = readEvents(tempFile(MIXED));
    expect(await collect(input)).toEqual(goodEvents());
    expect(input.stats()).toEqual({ received: 8, dropped: 0, malformed: 3, queued: 0 });
  });

  it("throw yields the events before, then rejects with the line's number", async () => {
    const file = tempFile(MIXED);
    const input = readEvents(file, { onMalformed: "throw" });
    const { events, error } = await collectUntilError(input);
    expect(events).toEqual(goodEvents().slice(0, 4));
    expect(isEventLineError(error)).toBe(true);
    const err = error as EventLineError;
    expect(err).toMatchObject({ name: "EventLineError", code: "ERR_TRACEE_EVENT_LINE", line: 6, path: "", format: "v1beta1" });
    expect(err.reason).toMatch(/^not JSON/);
    expect(err.message).toMatch(/^line 6: not JSON/);
    expect(err.cause).toBeInstanceOf(Error);
    expect(input.stats().malformed).toBe(1);
    await input.close();
    expect(openFds(file)).toBe(0);
  });

  it("a function sees each one, with its field, and reading goes on", async () => {
    const seen: EventLineError[] = [];
    const input = readEvents(tempFile(MIXED), { onMalformed: (err) => seen.push(err) });
    expect(await collect(input)).toEqual(goodEvents());
    expect(seen.map((e) => [e.line, e.path, e.format])).toEqual([
      [6, "", "v1beta1"],
      [9, "eventId", "legacy"],
      [12, "", "v1beta1"],
    ]);
    expect(seen[2]?.reason).toMatch(/no timestamp, name or eventName/);
    expect(input.stats().malformed).toBe(3);
  });

  it("a function that throws stops reading with what it threw", async () => {
    const stop = new Error("enough");
    const input = readEvents(tempFile(MIXED), {
      onMalformed: () => {
        throw stop;
      },
    });
    const { events, error } = await collectUntilError(input);
    expect(error).toBe(stop);
    expect(events).toHaveLength(4);
  });

  it("refuses options it does not know, at once", () => {
    expect(() => readEvents(V1_FILE, { format: "json" as "auto" })).toThrow(TypeError);
    expect(() => readEvents(V1_FILE, { onMalformed: "ignore" as "skip" })).toThrow(TypeError);
    expect(() => readEvents(V1_FILE, { queue: { capacity: 0 } })).toThrow(RangeError);
    expect(() => readEvents(42 as unknown as string)).toThrow(TypeError);
    expect(() => readEvents("")).toThrow(TypeError);
  });
});

describe("streams and bytes", () => {
  // A line with characters of 2, 3 and 4 bytes in UTF-8.
  const wide = (V1[0] as string).replaceAll("/tmp/testing.txt", "/tmp/tésting✓😀.txt");
  const text = `${wide}\r\n\n${LEGACY[5]}\r\n   \n${wide}\n${V1[6]}`; // no final line end
  const expected = () => [decodeEventJson(wide), fromLegacy(LEGACY[5] as string), decodeEventJson(wide), decodeEventJson(V1[6] as string)];

  it("puts characters split across chunks back together; CRLF, blank lines, a last line without a line end", async () => {
    const bytes = Buffer.from(text, "utf8");
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const stream = Readable.from(chunks);
    const input = readEvents(stream);
    const events = await collect(input);
    expect(events).toEqual(expected());
    expect(events[0]?.data[0]?.str).toBe("/tmp/tésting✓😀.txt");
    expect(input.stats()).toEqual({ received: 4, dropped: 0, malformed: 0, queued: 0 });
  });

  it("reads an async iterable of strings and of bytes, one byte at a time", async () => {
    async function* strings() {
      for (const ch of text) yield ch;
    }
    async function* bytes() {
      for (const b of Buffer.from(text, "utf8")) yield Uint8Array.of(b);
    }
    expect(await collect(readEvents(strings()))).toEqual(expected());
    expect(await collect(readEvents(bytes()))).toEqual(expected());
  });

  it('"-" reads stdin, and close() pauses it rather than destroying it', async () => {
    const stdin = new Readable({ read() {} });
    stdin.push(Buffer.from(`${V1[0]}\n${V1[1]}`));
    const spy = vi.spyOn(process, "stdin", "get").mockReturnValue(stdin as typeof process.stdin);
    try {
      const input = readEvents("-");
      const it = input[Symbol.asyncIterator]();
      expect((await it.next()).value).toEqual(decodeEventJson(V1[0] as string));
      stdin.push(Buffer.from("\n"));
      expect((await it.next()).value).toEqual(decodeEventJson(V1[1] as string));
      await input.close();
      expect(await it.next()).toEqual({ value: undefined, done: true });
      expect(stdin.destroyed).toBe(false);
      expect(stdin.isPaused()).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("reads a line of megabytes", async () => {
    const long = "x".repeat(3_000_000);
    const line = (V1[0] as string).replace("/tmp/testing.txt", long);
    const bytes = Buffer.from(`${line}\n${V1[1]}\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
    const events = await collect(readEvents(Readable.from(chunks)));
    expect(events.map((e) => e.name)).toEqual(["security_file_open", "openat"]);
    expect(events[0]?.data[0]?.str).toHaveLength(3_000_000);
  });

  it("a stream's error ends the iteration with it, after the events before it", async () => {
    const boom = new Error("disk on fire");
    const stream = new Readable({ read() {} });
    const input = readEvents(stream);
    stream.push(`${V1[0]}\n`);
    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(decodeEventJson(V1[0] as string));
    stream.destroy(boom);
    await expect(it.next()).rejects.toBe(boom);
  });

  it("a source that gives something other than text or bytes is an error", async () => {
    const { error } = await collectUntilError(readEvents(Readable.from([1, 2, 3])));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/number/);
  });
});

describe("overflow", () => {
  /** `lines` copies of a sample line, `perChunk` to a chunk, counting the chunks pulled. */
  function generated(lines: number, perChunk: number) {
    const state = { pulled: 0, done: false };
    async function* source() {
      for (let i = 0; i < lines; i += perChunk) {
        state.pulled++;
        const n = Math.min(perChunk, lines - i);
        yield `${V1[1]}\n`.repeat(n);
      }
      state.done = true;
    }
    return { state, source: source() };
  }

  it("drop-newest: a consumer that does not keep up loses events, counted, and the queue stays bounded", async () => {
    const { state, source } = generated(20_000, 50);
    const input = readEvents(source, { queue: { capacity: 64, overflow: "drop-newest" } });
    const it = input[Symbol.asyncIterator]();
    // A slow consumer: one event per turn of the event loop.
    let taken = 0;
    while (!state.done) {
      expect(input.stats().queued).toBeLessThanOrEqual(64);
      await it.next();
      taken++;
      await turn();
    }
    const stats = input.stats();
    expect(stats.received).toBe(20_000);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.queued).toBeLessThanOrEqual(64);
    let rest = 0;
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest++;
    expect(taken + rest + stats.dropped).toBe(20_000);
  });

  it("drop-oldest keeps the newest events", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => (V1[0] as string).replace("/tmp/testing.txt", `/tmp/${i}`));
    let done = false;
    async function* source() {
      yield `${lines.join("\n")}\n`;
      done = true;
    }
    const input = readEvents(source(), { queue: { capacity: 5, overflow: "drop-oldest" } });
    await until(() => done);
    const events = await collect(input);
    expect(events.map((e) => e.data[0]?.str)).toEqual(["/tmp/25", "/tmp/26", "/tmp/27", "/tmp/28", "/tmp/29"]);
    expect(input.stats()).toMatchObject({ received: 30, dropped: 25 });
  });

  it("block: no chunk is pulled from the source while the queue is full", async () => {
    const { state, source } = generated(100, 1);
    const input = readEvents(source, { queue: { capacity: 4, overflow: "block" } });
    await until(() => input.stats().queued === 4);
    for (let i = 0; i < 20; i++) await turn();
    // The chunk that filled the queue is the last one pulled.
    expect(state.pulled).toBe(4);
    expect(input.stats().received).toBe(4);

    const it = input[Symbol.asyncIterator]();
    await it.next();
    await until(() => input.stats().queued === 4);
    for (let i = 0; i < 20; i++) await turn();
    expect(state.pulled).toBe(5);

    let rest = 0;
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest++;
    expect(rest).toBe(99);
    expect(state.pulled).toBe(100);
    expect(input.stats()).toEqual({ received: 100, dropped: 0, malformed: 0, queued: 0 });
  });

  it("block: a chunk of many lines waits for room line by line", async () => {
    const { state, source } = generated(40, 40);
    const input = readEvents(source, { queue: { capacity: 3 } });
    await until(() => input.stats().queued === 3);
    for (let i = 0; i < 20; i++) await turn();
    expect(input.stats()).toMatchObject({ received: 3, queued: 3 });
    expect(state.pulled).toBe(1);
    expect(await collect(input)).toHaveLength(40);
  });

  it("block: a stream is paused while the queue is full", async () => {
    const { state, source } = generated(2000, 1);
    const stream = Readable.from(source);
    const input = readEvents(stream, { queue: { capacity: 4 } });
    await until(() => input.stats().queued === 4);
    for (let i = 0; i < 20; i++) await turn();
    expect(stream.isPaused()).toBe(true);
    // What the stream buffers ahead (its high-water mark), not the source.
    expect(state.pulled).toBeLessThan(4 + 2 * stream.readableHighWaterMark);
    expect(await collect(input)).toHaveLength(2000);
  });
});

describe("stopping", () => {
  const many = () => tempFile(`${Array.from({ length: 5000 }, (_, i) => V1[i % V1.length]).join("\n")}\n`);

  it("close() mid-way releases the file and ends the iteration after what is queued", async () => {
    const file = many();
    const input = readEvents(file, { queue: { capacity: 8 } });
    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    expect(openFds(file)).toBe(1);
    await input.close();
    expect(openFds(file)).toBe(0);
    let rest = 0;
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest++;
    expect(rest).toBeLessThanOrEqual(8);
    expect(input.stats().received).toBeLessThan(5000);
    await input.close(); // again: fine
  });

  it("breaking out of the loop releases the file", async () => {
    const file = many();
    const input = readEvents(file, { queue: { capacity: 8 } });
    for await (const event of input) {
      expect(event.name).toBe("security_file_open");
      break;
    }
    await input.close(); // the same closing, already under way
    expect(openFds(file)).toBe(0);
  });

  it("the signal stops it", async () => {
    const file = many();
    const controller = new AbortController();
    const input = readEvents(file, { queue: { capacity: 8 }, signal: controller.signal });
    const it = input[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    let rest = 0;
    for (let r = await it.next(); r.done !== true; r = await it.next()) rest++;
    expect(rest).toBeLessThanOrEqual(8);
    await input.close();
    expect(openFds(file)).toBe(0);
  });

  it("an already aborted signal reads nothing", async () => {
    const input = readEvents(V1_FILE, { signal: AbortSignal.abort() });
    expect(await collect(input)).toEqual([]);
  });

  it("close() lets go of a stream you passed without destroying it", async () => {
    const stream = new Readable({ read() {} });
    stream.push(`${V1[0]}\n`);
    const input = readEvents(stream);
    const it = input[Symbol.asyncIterator]();
    await it.next();
    await input.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(stream.destroyed).toBe(false);
    expect(stream.listenerCount("data")).toBe(0);
  });

  it("close() returns an iterable you passed", async () => {
    let finished = false;
    async function* source() {
      try {
        for (;;) yield `${V1[0]}\n`;
      } finally {
        finished = true;
      }
    }
    const input = readEvents(source(), { queue: { capacity: 2 } });
    await until(() => input.stats().queued === 2);
    await input.close();
    await until(() => finished);
    expect(input.stats().received).toBe(2);
  });
});

describe("a file that cannot be read", () => {
  it("a missing file rejects the iteration with ENOENT, naming the path", async () => {
    const missing = join(dir, "no-such-file.ndjson");
    const { events, error } = await collectUntilError(readEvents(missing));
    expect(events).toEqual([]);
    expect(error).toMatchObject({ code: "ENOENT", path: missing });
    expect((error as Error).message).toBe(`cannot read events from ${missing}: no such file or directory`);
    expect((error as Error).cause).toMatchObject({ code: "ENOENT" });
  });

  it("a directory rejects with EISDIR", async () => {
    const { error } = await collectUntilError(readEvents(dir));
    expect(error).toMatchObject({ code: "EISDIR", path: dir });
  });
});
