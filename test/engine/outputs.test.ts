/**
 * The engine's outputs: jsonOutput writes Tracee's JSON lines byte for byte
 * to a stream or a file and waits when the stream asks; webhookOutput posts
 * each event like Tracee's webhook printer, retries what is worth retrying,
 * counts what it gives up on, holds the writer back or drops when the queue
 * is full, and close() waits for in-flight posts (bounded); tableOutput
 * prints readable lines cut to a terminal's width; parseOutputSpec and
 * openOutput take the command line's forms.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { decodeEventJson, encodeEventJson, type TraceeEvent } from "tracee-ds/events";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EventOutput,
  formatTableRow,
  isOutputSpecError,
  isWebhookOutputError,
  jsonOutput,
  openOutput,
  OutputSpecError,
  parseOutputSpec,
  tableHeader,
  tableOutput,
  webhookOutput,
  type WebhookOutputError,
  type WebhookOutputOptions,
} from "../../src/engine/outputs/index.js";
import { webhookEvents } from "../../src/events/inputs/webhook.js";

const LINES = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const EVENTS: TraceeEvent[] = LINES.map((l) => decodeEventJson(l));
const event = (i: number) => EVENTS[i] as TraceeEvent;
const ANTI_DEBUGGING = 13;
const DROPPED_EXECUTABLE = 14;

/** Lets pending promise callbacks and I/O callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Waits for `condition`, a turn of the event loop at a time (the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn();
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tracee-ds-outputs-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Collects what a stream receives. */
function collect(stream: PassThrough): () => string {
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (text += chunk));
  return () => text;
}

/** A writable that completes each write only when told to. */
class SlowWritable extends Writable {
  readonly chunks: string[] = [];
  readonly callbacks: ((err?: Error | null) => void)[] = [];
  constructor() {
    super({ highWaterMark: 64, decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    this.callbacks.push(callback);
  }
  /** Completes the oldest write waiting. */
  next(): void {
    this.callbacks.shift()?.();
  }
}

describe("jsonOutput", () => {
  it("writes each event as Tracee's JSON line, byte for byte, to a stream it leaves open", async () => {
    const stream = new PassThrough();
    const text = collect(stream);
    const out = jsonOutput(stream);
    for (const e of EVENTS) expect(out.write(e)).toBeUndefined();
    await out.flush?.();
    expect(out.stats()).toEqual({ written: EVENTS.length, failed: 0 });
    await out.close();
    await turn();
    expect(text()).toBe(EVENTS.map((e) => `${encodeEventJson(e)}\n`).join(""));
    // The fixture is Tracee's printer output: the lines are the fixture's own.
    expect(text()).toBe(LINES.map((l) => `${l}\n`).join(""));
    expect(stream.writableEnded).toBe(false);
    expect(() => out.write(event(0))).toThrow(/write after close/);
    expect(await out.close()).toBeUndefined(); // closing again is fine
  });

  it("ends a stream on close when asked", async () => {
    const stream = new PassThrough();
    const text = collect(stream);
    const out = jsonOutput(stream, { end: true });
    out.write(event(0));
    await out.close();
    expect(stream.writableFinished).toBe(true);
    await turn();
    expect(text()).toBe(`${LINES[0]}\n`);
  });

  it("creates the file and its directories, truncates it, and closes it on close", async () => {
    const dir = tempDir();
    const path = join(dir, "a", "b", "events.ndjson");
    const first = jsonOutput(path);
    for (const e of EVENTS.slice(0, 5)) first.write(e);
    await first.close();
    expect(readFileSync(path, "utf8")).toBe(LINES.slice(0, 5).map((l) => `${l}\n`).join(""));
    expect(first.stats()).toEqual({ written: 5, failed: 0 });

    writeFileSync(path, "old content that must go\n".repeat(100));
    const second = jsonOutput(path);
    second.write(event(7));
    await second.close();
    expect(readFileSync(path, "utf8")).toBe(`${LINES[7]}\n`);
  });

  it("appends to the file when asked", async () => {
    const path = join(tempDir(), "events.ndjson");
    writeFileSync(path, `${LINES[0]}\n`);
    const out = jsonOutput(path, { append: true });
    out.write(event(1));
    out.write(event(2));
    await out.close();
    expect(readFileSync(path, "utf8")).toBe(`${LINES[0]}\n${LINES[1]}\n${LINES[2]}\n`);
  });

  it("throws at once for a path it cannot open", () => {
    const dir = tempDir();
    expect(() => jsonOutput(dir)).toThrow(/EISDIR/);
  });

  it("returns a promise when the stream asks to wait, resolved on drain, and counts writes as they complete", async () => {
    const slow = new SlowWritable();
    const out = jsonOutput(slow);
    const wait = out.write(event(0));
    expect(wait).toBeInstanceOf(Promise);
    // Writing on without waiting is accepted, and waits for the same drain.
    expect(out.write(event(1))).toBe(wait);
    let drained = false;
    void (wait as Promise<void>).then(() => (drained = true));
    await turn();
    expect(drained).toBe(false);
    expect(out.stats()).toEqual({ written: 0, failed: 0 });

    let flushed = false;
    void out.flush?.().then(() => (flushed = true));
    slow.next();
    await until(() => slow.callbacks.length > 0);
    expect(out.stats().written).toBe(1);
    expect(flushed).toBe(false);
    slow.next();
    await until(() => drained && flushed);
    expect(out.stats()).toEqual({ written: 2, failed: 0 });
    expect(slow.chunks).toEqual([`${LINES[0]}\n`, `${LINES[1]}\n`]);

    // The close waits for the writes still pending.
    out.write(event(2));
    let closed = false;
    const closing = out.close().then(() => (closed = true));
    await turn();
    expect(closed).toBe(false);
    await until(() => slow.callbacks.length > 0);
    slow.next();
    await closing;
    expect(out.stats()).toEqual({ written: 3, failed: 0 });
  });

  it("counts a stream's errors as failures, reports the first once, and never throws", async () => {
    const errors: Error[] = [];
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("disk full"));
      },
    });
    const out = jsonOutput(broken, { onError: (err) => errors.push(err) });
    out.write(event(0));
    await out.flush?.();
    await turn();
    out.write(event(1));
    out.write(event(2));
    await out.close();
    expect(out.stats()).toEqual({ written: 0, failed: 3 });
    expect(errors.map((e) => e.message)).toEqual(["disk full"]);
  });
});

/** What a test server received. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How a test server answers request number `n` (from 0): a status, or hold it until `release()`, or never. */
type Answer = number | { status: number; headers: Record<string, string> } | "hold" | "never";

async function testServer(answer: (n: number, req: Received) => Answer = () => 200) {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const r: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      const n = received.length;
      received.push(r);
      const a = answer(n, r);
      if (a === "never") return;
      if (a === "hold") return void held.push(res);
      const { status, headers } = typeof a === "number" ? { status: a, headers: {} } : a;
      res.writeHead(status, headers).end(status === 200 ? "" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  cleanups.push(close);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** Answers every held request 200. */
    release: () => {
      for (const res of held.splice(0)) res.writeHead(200).end();
    },
    held: () => held.length,
    close,
  };
}

/** A webhook output closed after the test (quickly, whatever is left). */
function webhook(url: string, options: WebhookOutputOptions = {}): EventOutput {
  const out = webhookOutput(url, { retryDelayMs: 1, ...options });
  cleanups.push(() => out.close());
  return out;
}

describe("webhookOutput", () => {
  it("posts each event as Tracee does: one POST, the JSON line as body, application/json, in order", async () => {
    const server = await testServer();
    const out = webhook(`${server.url}/tracee?timeout=5s`);
    for (const e of EVENTS) expect(out.write(e)).toBeUndefined();
    await out.flush?.();
    expect(out.stats()).toEqual({ written: EVENTS.length, failed: 0, retried: 0, dropped: 0 });
    expect(server.received.map((r) => r.body)).toEqual(EVENTS.map((e) => encodeEventJson(e)));
    expect(server.received.map((r) => r.body)).toEqual(LINES);
    for (const r of server.received) {
      expect(r.method).toBe("POST");
      expect(r.url).toBe("/tracee?timeout=5s");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["content-length"]).toBe(String(Buffer.byteLength(r.body)));
    }
    await out.close();
  });

  it("feeds the package's own webhook receiver, event for event", async () => {
    const input = await webhookEvents({ path: "/findings" });
    cleanups.push(() => input.close());
    const out = webhook(input.url);
    for (const e of EVENTS) out.write(e);
    const got: TraceeEvent[] = [];
    for await (const e of input) {
      got.push(e);
      if (got.length === EVENTS.length) break;
    }
    await out.close();
    expect(got.map((e) => encodeEventJson(e))).toEqual(LINES);
    expect(out.stats().written).toBe(EVENTS.length);
  });

  it("sends a content type and headers given, and the URL's user as Basic auth", async () => {
    const server = await testServer();
    const base = new URL(server.url);
    base.username = "tracee";
    base.password = "s3cret";
    const out = webhook(base.href, { contentType: "application/x-ndjson", headers: { "x-source": "engine" } });
    out.write(event(0));
    await out.close();
    const [r] = server.received;
    expect(r?.headers["content-type"]).toBe("application/x-ndjson");
    expect(r?.headers["x-source"]).toBe("engine");
    expect(r?.headers.authorization).toBe(`Basic ${Buffer.from("tracee:s3cret").toString("base64")}`);
  });

  it("retries 503 and 429 (honouring Retry-After), then succeeds", async () => {
    const server = await testServer((n) => (n === 0 ? 503 : n === 1 ? { status: 429, headers: { "retry-after": "0" } } : 200));
    const out = webhook(server.url);
    out.write(event(3));
    out.write(event(4));
    await out.flush?.();
    expect(out.stats()).toEqual({ written: 2, failed: 0, retried: 2, dropped: 0 });
    expect(server.received.map((r) => r.body)).toEqual([LINES[3], LINES[3], LINES[3], LINES[4]]);
  });

  it("gives up after the bounded attempts and counts the event as failed", async () => {
    const server = await testServer(() => 500);
    const errors: [Error, TraceeEvent | undefined][] = [];
    const out = webhook(server.url, { onError: (err, e) => errors.push([err, e]) });
    out.write(event(0));
    out.write(event(1));
    await out.flush?.();
    expect(out.stats()).toEqual({ written: 0, failed: 2, retried: 4, dropped: 0 });
    expect(server.received).toHaveLength(6);
    expect(errors).toHaveLength(2);
    const [err, e] = errors[0] as [Error, TraceeEvent];
    expect(isWebhookOutputError(err)).toBe(true);
    expect(err).toMatchObject({ code: "status", status: 500, attempts: 3 });
    expect(err.message).toMatch(/HTTP 500.*after 3 attempts/);
    expect(e).toBe(event(0));
  });

  it("does not retry a 4xx answer other than 429", async () => {
    const server = await testServer(() => 400);
    const out = webhook(server.url, { maxAttempts: 5 });
    out.write(event(0));
    await out.flush?.();
    expect(out.stats()).toEqual({ written: 0, failed: 1, retried: 0, dropped: 0 });
    expect(server.received).toHaveLength(1);
  });

  it("retries network errors: a server that is gone counts as failed", async () => {
    const server = await testServer();
    await server.close();
    const errors: WebhookOutputError[] = [];
    const out = webhook(server.url, { maxAttempts: 2, onError: (err) => errors.push(err as WebhookOutputError) });
    out.write(event(0));
    await out.flush?.();
    expect(out.stats()).toEqual({ written: 0, failed: 1, retried: 1, dropped: 0 });
    expect(errors[0]?.code).toBe("network");
  });

  it("times out a server that never answers, retries, then counts the event as failed", async () => {
    const server = await testServer(() => "never");
    const errors: WebhookOutputError[] = [];
    const out = webhook(server.url, { timeoutMs: 50, maxAttempts: 2, onError: (err) => errors.push(err as WebhookOutputError) });
    out.write(event(0));
    await out.flush?.();
    expect(out.stats()).toEqual({ written: 0, failed: 1, retried: 1, dropped: 0 });
    expect(server.received).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: "timeout", attempts: 2 });
  });

  it("close() waits for the posts in flight and queued", async () => {
    const server = await testServer(() => "hold");
    const out = webhook(server.url);
    out.write(event(0));
    out.write(event(1));
    await until(() => server.held() === 1);
    let closed = false;
    const closing = out.close().then(() => (closed = true));
    for (let i = 0; i < 5; i++) await turn();
    expect(closed).toBe(false);
    expect(() => out.write(event(2))).toThrow(/write after close/);
    server.release();
    await until(() => server.held() === 1);
    expect(closed).toBe(false);
    server.release();
    await closing;
    expect(out.stats()).toEqual({ written: 2, failed: 0, retried: 0, dropped: 0 });
  });

  it("close() gives up after closeTimeoutMs: the post in flight fails, the queued are dropped", async () => {
    const server = await testServer(() => "never");
    const errors: WebhookOutputError[] = [];
    const out = webhookOutput(server.url, {
      timeoutMs: 600_000,
      closeTimeoutMs: 20,
      onError: (err) => errors.push(err as WebhookOutputError),
    });
    out.write(event(0));
    out.write(event(1));
    out.write(event(2));
    await until(() => server.received.length === 1);
    await out.close();
    expect(out.stats()).toEqual({ written: 0, failed: 1, retried: 0, dropped: 2 });
    expect(errors.map((e) => e.code)).toEqual(["closed"]);
  });

  it('with "block", write returns a promise once more than queueCapacity events wait', async () => {
    const server = await testServer(() => "hold");
    const out = webhook(server.url, { queueCapacity: 1 });
    expect(out.write(event(0))).toBeUndefined(); // in flight
    expect(out.write(event(1))).toBeUndefined(); // waits, within capacity
    const wait = out.write(event(2)); // one too many: queued, but the writer must wait
    expect(wait).toBeInstanceOf(Promise);
    expect(out.write(event(3))).toBe(wait);
    let room = false;
    void (wait as Promise<void>).then(() => (room = true));
    await until(() => server.held() === 1);
    for (let i = 0; i < 5; i++) await turn();
    expect(room).toBe(false);
    server.release(); // event 0 answered, event 1 goes: 2 still wait
    await until(() => server.received.length === 2);
    for (let i = 0; i < 5; i++) await turn();
    expect(room).toBe(false);
    server.release(); // event 2 goes: 1 waits, within capacity
    await until(() => room);
    while (server.received.length < 4 || server.held() > 0) {
      server.release();
      await turn();
    }
    await out.flush?.();
    expect(server.received.map((r) => r.body)).toEqual(LINES.slice(0, 4));
    expect(out.stats()).toEqual({ written: 4, failed: 0, retried: 0, dropped: 0 });
  });

  it('with "drop-newest" or "drop-oldest", write never waits and counts drops', async () => {
    for (const overflow of ["drop-newest", "drop-oldest"] as const) {
      const server = await testServer(() => "hold");
      const out = webhook(server.url, { queueCapacity: 1, overflow });
      for (let i = 0; i < 4; i++) expect(out.write(event(i))).toBeUndefined();
      expect(out.stats().dropped).toBe(2);
      while (server.received.length < 2 || server.held() > 0) {
        server.release();
        await turn();
      }
      await out.flush?.();
      const expected = overflow === "drop-newest" ? [LINES[0], LINES[1]] : [LINES[0], LINES[3]];
      expect(server.received.map((r) => r.body)).toEqual(expected);
      expect(out.stats()).toEqual({ written: 2, failed: 0, retried: 0, dropped: 2 });
    }
  });

  it("keeps at most `concurrency` posts in flight", async () => {
    const server = await testServer(() => "hold");
    const out = webhook(server.url, { concurrency: 2 });
    for (let i = 0; i < 5; i++) out.write(event(i));
    await until(() => server.held() === 2);
    for (let i = 0; i < 5; i++) await turn();
    expect(server.received).toHaveLength(2);
    while (server.received.length < 5 || server.held() > 0) {
      expect(server.held()).toBeLessThanOrEqual(2);
      server.release();
      await turn();
    }
    await out.flush?.();
    expect(out.stats().written).toBe(5);
  });

  it("refuses URLs and options it cannot use", () => {
    expect(() => webhookOutput("ftp://example.com/")).toThrow(TypeError);
    expect(() => webhookOutput("not a url")).toThrow(TypeError);
    expect(() => webhookOutput("http://127.0.0.1/", { maxAttempts: 0 })).toThrow(RangeError);
    expect(() => webhookOutput("http://127.0.0.1/", { concurrency: 1.5 })).toThrow(RangeError);
    expect(() => webhookOutput("http://127.0.0.1/", { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => webhookOutput("http://127.0.0.1/", { overflow: "drop" as never })).toThrow(RangeError);
  });
});

/** A PassThrough that says it is a terminal this wide. */
function terminal(columns: number): PassThrough & { isTTY: boolean; columns: number } {
  return Object.assign(new PassThrough(), { isTTY: true, columns });
}

const lines = (text: string) => text.split("\n").slice(0, -1);

describe("tableOutput", () => {
  it("prints time, event, severity, comm:pid, container and a summary", async () => {
    const stream = new PassThrough();
    const text = collect(stream);
    const out = tableOutput(stream);
    for (const i of [0, ANTI_DEBUGGING, DROPPED_EXECUTABLE]) out.write(event(i));
    await out.close();
    await turn();
    const [header, open, anti, dropped] = lines(text()) as [string, string, string, string];
    expect(lines(text())).toHaveLength(4);
    expect(header).toBe(tableHeader());
    expect(header.split(/\s+/)).toEqual(["TIME(UTC)", "EVENT", "SEVERITY", "PROCESS", "CONTAINER", "SUMMARY"]);

    expect(open.startsWith("22:59:27.356 security_file_open ")).toBe(true);
    expect(open).toContain(" - ");
    expect(open).toContain(" bash:2578238 ");
    expect(open).toContain("pathname=/tmp/testing.txt flags=O_WRONLY|O_CREAT|O_TRUNC|O_LARGEFILE dev=271581185");

    expect(anti.startsWith("19:44:47.787 anti_debugging ")).toBe(true);
    expect(anti).toContain(" LOW ");
    expect(anti).toContain(" strace:95599 ");
    expect(anti).toMatch(/ - +Anti-Debugging detected$/);

    expect(dropped.startsWith("13:09:57.900 dropped_executable ")).toBe(true);
    expect(dropped).toMatch(/ MEDIUM +dpkg:441 +ae95a93ce0c2 +New executable dropped/);
    expect(out.stats()).toEqual({ written: 3, failed: 0 });
  });

  it("cuts lines to the terminal's width, and not when the stream is no terminal", async () => {
    const tty = terminal(60);
    const ttyText = collect(tty);
    const out = tableOutput(tty);
    for (const e of EVENTS) out.write(e);
    await out.close();
    await turn();
    const cut = lines(ttyText());
    expect(cut).toHaveLength(EVENTS.length + 1);
    for (const l of cut) expect(Array.from(l).length).toBeLessThanOrEqual(60);
    expect(cut.filter((l) => l.endsWith("…")).length).toBeGreaterThan(EVENTS.length / 2);

    const plain = new PassThrough();
    const plainText = collect(plain);
    const full = tableOutput(plain);
    for (const e of EVENTS) full.write(e);
    await full.close();
    await turn();
    const whole = lines(plainText());
    expect(whole.slice(1)).toEqual(EVENTS.map((e) => formatTableRow(e)));
    expect(whole.some((l) => l.length > 60)).toBe(true);
    expect(cut.slice(1).map((l) => l.replace(/…$/, ""))).toEqual(
      whole.slice(1).map((l) => (Array.from(l).length > 60 ? Array.from(l).slice(0, 59).join("") : l)),
    );
  });

  it("follows a terminal resize, and takes an explicit width or none", async () => {
    const tty = terminal(40);
    const text = collect(tty);
    const out = tableOutput(tty, { header: false });
    out.write(event(0));
    tty.columns = 70;
    out.write(event(0));
    await out.close();
    await turn();
    expect(lines(text()).map((l) => Array.from(l).length)).toEqual([40, 70]);

    expect(Array.from(formatTableRow(event(0), { columns: 30 }))).toHaveLength(30);
    const wide = terminal(20);
    const wideText = collect(wide);
    const uncut = tableOutput(wide, { columns: false, header: false });
    uncut.write(event(0));
    await uncut.close();
    await turn();
    expect(lines(wideText())).toEqual([formatTableRow(event(0))]);
  });

  it("escapes control characters a traced process put in its name or data", () => {
    const e = decodeEventJson(LINES[0] as string);
    const thread = e.workload?.process?.thread;
    if (thread === undefined) throw new Error("fixture has a thread");
    thread.name = "evil\u001b[2J";
    e.data.push({ name: "note", str: "a\nb" });
    const row = formatTableRow(e);
    expect(row).not.toMatch(/[\u0000-\u001f]/);
    expect(row).toContain("evil\\x1b[2J:2578238");
    expect(row).toContain('note="a\\nb"');
  });

  it("prints local time when asked", () => {
    const e = event(0);
    const ts = e.timestamp;
    if (ts === undefined) throw new Error("fixture has a timestamp");
    const d = new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6));
    const hh = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    expect(formatTableRow(e, { timeZone: "local" }).startsWith(`${hh}.356 `)).toBe(true);
    expect(tableHeader({ timeZone: "local" }).startsWith("TIME ")).toBe(true);
  });

  it("writes to a file", async () => {
    const path = join(tempDir(), "events.txt");
    const out = tableOutput(path);
    out.write(event(1));
    await out.close();
    expect(readFileSync(path, "utf8")).toBe(`${tableHeader()}\n${formatTableRow(event(1))}\n`);
  });
});

describe("parseOutputSpec", () => {
  it.each([
    ["json", { kind: "json" }],
    ["json:stdout", { kind: "json" }],
    ["json:-", { kind: "json" }],
    ["json:/var/log/findings.ndjson", { kind: "json", path: "/var/log/findings.ndjson" }],
    ["json:relative/with:colon.ndjson", { kind: "json", path: "relative/with:colon.ndjson" }],
    ["table", { kind: "table" }],
    ["table:out.txt", { kind: "table", path: "out.txt" }],
    ["webhook:http://127.0.0.1:8080/tracee", { kind: "webhook", url: "http://127.0.0.1:8080/tracee" }],
    ["webhook:https://siem.example/x", { kind: "webhook", url: "https://siem.example/x" }],
    [
      "webhook:http://h:1/p?timeout=1m30s&contentType=text/plain",
      { kind: "webhook", url: "http://h:1/p?timeout=1m30s&contentType=text/plain", timeoutMs: 90_000, contentType: "text/plain" },
    ],
    ["webhook:http://h/p?timeout=500ms", { kind: "webhook", url: "http://h/p?timeout=500ms", timeoutMs: 500 }],
    ["webhook:http://h/p?timeout=", { kind: "webhook", url: "http://h/p?timeout=" }],
  ])("accepts %s", (spec, expected) => {
    expect(parseOutputSpec(spec)).toEqual(expected);
  });

  it.each([
    ["", /empty/],
    ["xml", /unknown output "xml"; expected json, json:PATH/],
    ["json:", /needs a file path/],
    ["table:", /needs a file path/],
    ["json:a.ndjson,b.ndjson", /one path per output/],
    ["webhook", /needs a URL/],
    ["webhook:", /needs a URL/],
    ["webhook:localhost:8080", /http or https URL, got localhost/],
    ["webhook:ftp://example.com/x", /http or https URL, got ftp/],
    ["webhook:not a url", /not a URL/],
    ["webhook:http://h/p?timeout=soon", /timeout: expected a duration/],
    ["webhook:http://h/p?timeout=0", /greater than zero/],
    ["webhook:http://h/p?gotemplate=/t.tmpl", /Go templates/],
    ["forward:tcp://h:24224", /forward .* not supported/],
    ["gotemplate=/t.tmpl", /Go templates are not supported/],
    ["none", /not supported/],
  ])("refuses %j", (spec, reason) => {
    let caught: unknown;
    try {
      parseOutputSpec(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OutputSpecError);
    expect(isOutputSpecError(caught)).toBe(true);
    expect((caught as OutputSpecError).spec).toBe(spec);
    expect((caught as Error).message).toContain(`output ${JSON.stringify(spec)}: `);
    expect((caught as Error).message).toMatch(reason);
  });
});

describe("openOutput", () => {
  it("builds json and table outputs on stdout, and never closes it", async () => {
    const stdout = new PassThrough();
    const text = collect(stdout);
    const json = openOutput("json", { stdout });
    json.write(event(0));
    await json.close();
    const table = openOutput({ kind: "table" }, { stdout, table: { header: false } });
    table.write(event(0));
    await table.close();
    await turn();
    expect(text()).toBe(`${LINES[0]}\n${formatTableRow(event(0))}\n`);
    expect(stdout.writableEnded).toBe(false);
  });

  it("opens files, appending when asked", async () => {
    const path = join(tempDir(), "x", "events.ndjson");
    const first = openOutput(`json:${path}`, { stdout: new PassThrough() });
    first.write(event(0));
    await first.close();
    const second = openOutput(`json:${path}`, { stdout: new PassThrough(), append: true });
    second.write(event(1));
    await second.close();
    expect(readFileSync(path, "utf8")).toBe(`${LINES[0]}\n${LINES[1]}\n`);
  });

  it("names the spec when a file cannot be opened", () => {
    const dir = tempDir();
    let caught: unknown;
    try {
      openOutput(`json:${dir}`, { stdout: new PassThrough() });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OutputSpecError);
    expect((caught as Error).message).toMatch(new RegExp(`^output "json:${dir}": cannot open ${dir}: .*EISDIR`));
    expect((caught as Error).cause).toMatchObject({ code: "EISDIR" });
  });

  it("builds a webhook output with the spec's timeout and content type", async () => {
    const server = await testServer();
    const out = openOutput(`webhook:${server.url}/hook?contentType=application/x-tracee&timeout=3s`, {
      stdout: new PassThrough(),
      webhook: { contentType: "ignored/by-spec", retryDelayMs: 1 },
    });
    cleanups.push(() => out.close());
    out.write(event(0));
    await out.close();
    expect(server.received[0]?.headers["content-type"]).toBe("application/x-tracee");
    expect(server.received[0]?.url).toBe("/hook?contentType=application/x-tracee&timeout=3s");
    expect(out.stats().written).toBe(1);
  });

  it("throws a spec error for a bad spec", () => {
    expect(() => openOutput("webhook:gopher://x", { stdout: new PassThrough() })).toThrow(OutputSpecError);
  });
});
