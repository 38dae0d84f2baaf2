/**
 * webhookEvents: what Tracee's webhook output posts arrives in order and
 * decoded; bad bodies get 400 and are counted while the receiver keeps
 * serving; wrong path, method and size get 404, 405 and 413; with "block" a
 * full queue holds the answer back; close() answers, stops listening and
 * ends the iteration after what is queued.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { decodeEventJson, decodeLegacyEventJson, legacyToEvent, type TraceeEvent } from "tracee-ds/events";
import { afterEach, describe, expect, it } from "vitest";
import { type WebhookEventsOptions, type WebhookInput, webhookEvents } from "../../src/events/inputs/webhook.js";

const linesOf = (name: string) =>
  readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
const V1 = linesOf("v1beta1.ndjson");
const LEGACY = linesOf("legacy.ndjson");
const line = (i: number) => V1[i] as string;

/** Lets pending promise callbacks and I/O callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Waits for `condition`, a turn of the event loop at a time (the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn();
}

const opened: WebhookInput[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((input) => input.close()));
});
async function receiver(options: WebhookEventsOptions = {}): Promise<WebhookInput> {
  const input = await webhookEvents(options);
  opened.push(input);
  return input;
}

/** POSTs `body` the way Tracee does. */
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

/**
 * POSTs `body` with node:http on a connection of its own: `flushed` resolves
 * once the whole request is handed to the system (fetch may hold a request
 * back while another to the same server is open).
 */
function send(url: string, body: string) {
  let sent: () => void = () => {};
  const flushed = new Promise<void>((resolve) => (sent = resolve));
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body, () => sent());
  });
  return { flushed, answer };
}

/** A request and whether it has completed. */
function tracked(request: Promise<Response>) {
  const state = { settled: false, response: request };
  void request.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

describe("receiving", () => {
  it("listens on 127.0.0.1 at a free port by default, and says where", async () => {
    const input = await receiver();
    expect(input.address).toBe("127.0.0.1");
    expect(input.port).toBeGreaterThan(0);
    expect(input.url).toBe(`http://127.0.0.1:${input.port}/`);
    const other = await receiver({ path: "/tracee/events" });
    expect(other.url).toBe(`http://127.0.0.1:${other.port}/tracee/events`);
  });

  it("every sample line posted arrives, in order, as decodeEventJson reads it", async () => {
    const input = await receiver();
    for (const l of V1) {
      const res = await post(input.url, l);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("");
    }
    expect(input.stats()).toEqual({ received: 17, dropped: 0, malformed: 0, queued: 17 });
    await input.close();
    const events: TraceeEvent[] = [];
    for await (const e of input) events.push(e);
    expect(events).toEqual(V1.map(decodeEventJson));
  });

  it("a body of several NDJSON lines queues each, in either JSON", async () => {
    const input = await receiver();
    const body = `${line(0)}\n${LEGACY[0]}\r\n\n${line(1)}\n`;
    expect((await post(input.url, body, { "content-type": "application/x-ndjson" })).status).toBe(200);
    expect(input.stats().received).toBe(3);
    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(decodeEventJson(line(0)));
    expect((await it.next()).value).toEqual(legacyToEvent(decodeLegacyEventJson(LEGACY[0] as string)));
    expect((await it.next()).value).toEqual(decodeEventJson(line(1)));
  });

  it("ignores the query string", async () => {
    const input = await receiver({ path: "/hook" });
    expect((await post(`${input.url}?source=tracee`, line(0))).status).toBe(200);
    expect(input.stats().received).toBe(1);
  });
});

describe("refusing", () => {
  it("a body that is not JSON gets 400 with the reason, is counted, and the receiver keeps serving", async () => {
    const input = await receiver();
    const bad = await post(input.url, "this is not json");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await bad.text()).toMatch(/^line 1: not JSON/);
    expect(input.stats()).toMatchObject({ received: 0, malformed: 1 });

    const notEvent = await post(input.url, '{"hello":"world"}');
    expect(notEvent.status).toBe(400);
    expect(await notEvent.text()).toMatch(/no timestamp, name or eventName/);

    const badField = await post(input.url, line(0).replace('"id":1032', '"id":"x"'));
    expect(badField.status).toBe(400);
    expect(await badField.text()).toBe('line 1: id: expected a 32-bit integer, got the string "x"\n');

    const empty = await post(input.url, "\n");
    expect(empty.status).toBe(400);
    expect(input.stats()).toMatchObject({ received: 0, malformed: 4 });

    expect((await post(input.url, line(2))).status).toBe(200);
    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(decodeEventJson(line(2)));
  });

  it("a body with a bad line queues none of its events, and counts each bad line", async () => {
    const input = await receiver();
    const res = await post(input.url, `${line(0)}\nnope\n${line(1)}\n{"x":1}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^line 2: not JSON.*\(and 1 more\)\n$/);
    expect(input.stats()).toMatchObject({ received: 0, malformed: 2, queued: 0 });
  });

  it("another path gets 404, another method 405 with Allow: POST", async () => {
    const input = await receiver({ path: "/events" });
    const elsewhere = await post(`http://127.0.0.1:${input.port}/other`, line(0));
    expect(elsewhere.status).toBe(404);
    await elsewhere.text();
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await fetch(input.url, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      await res.text();
    }
    expect(input.stats()).toEqual({ received: 0, dropped: 0, malformed: 0, queued: 0 });
  });

  it("a body over maxBodyBytes gets 413, by its Content-Length or as it streams in", async () => {
    const input = await receiver({ maxBodyBytes: 1024 });
    const big = `${line(0)}\n`.repeat(4);
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024);
    const declared = await post(input.url, big);
    expect(declared.status).toBe(413);
    expect(await declared.text()).toMatch(/larger than 1024 bytes/);

    const chunked = await fetch(input.url, {
      method: "POST",
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    await chunked.text();

    expect((await post(input.url, line(0))).status).toBe(200);
    expect(input.stats()).toMatchObject({ received: 1, malformed: 0 });
  });

  it("a compressed body gets 415", async () => {
    const input = await receiver();
    const res = await post(input.url, line(0), { "content-encoding": "gzip" });
    expect(res.status).toBe(415);
    await res.text();
  });

  it("refuses options it cannot use", async () => {
    await expect(webhookEvents({ path: "events" })).rejects.toThrow(TypeError);
    await expect(webhookEvents({ port: 70000 })).rejects.toThrow(RangeError);
    await expect(webhookEvents({ maxBodyBytes: 0 })).rejects.toThrow(RangeError);
    await expect(webhookEvents({ format: "xml" as "auto" })).rejects.toThrow(TypeError);
  });

  it("a port in use rejects with EADDRINUSE", async () => {
    const first = await receiver();
    await expect(webhookEvents({ port: first.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});

describe("overflow", () => {
  it("block: a full queue holds the answer until the consumer takes an event", async () => {
    const input = await receiver({ queue: { capacity: 1, overflow: "block" } });
    const a = tracked(post(input.url, line(0)));
    await until(() => input.stats().received === 1);
    // A request answered at once on the same server: had A been answered
    // when it was queued, its answer would be back by now.
    const probe = await fetch(input.url);
    expect(probe.status).toBe(405);
    await probe.text();
    for (let i = 0; i < 5; i++) await turn();
    expect(a.settled).toBe(false);

    // B reaches the server while the queue is full: it waits, not queued.
    const b = send(input.url, line(1));
    let bAnswered = false;
    void b.answer.then(() => (bAnswered = true));
    await b.flushed;
    const probe2 = await fetch(input.url);
    await probe2.text();
    expect(input.stats()).toMatchObject({ received: 1, queued: 1 });

    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(decodeEventJson(line(0)));
    expect((await a.response).status).toBe(200);
    await until(() => input.stats().received === 2);
    for (let i = 0; i < 5; i++) await turn();
    expect(bAnswered).toBe(false);
    expect((await it.next()).value).toEqual(decodeEventJson(line(1)));
    expect(await b.answer).toEqual({ status: 200, text: "" });
    expect(input.stats()).toEqual({ received: 2, dropped: 0, malformed: 0, queued: 0 });
  });

  it("drop-newest: answers at once and counts what did not fit", async () => {
    const input = await receiver({ queue: { capacity: 2, overflow: "drop-newest" } });
    for (let i = 0; i < 5; i++) expect((await post(input.url, line(i))).status).toBe(200);
    expect(input.stats()).toEqual({ received: 5, dropped: 3, malformed: 0, queued: 2 });
    await input.close();
    const names: string[] = [];
    for await (const e of input) names.push(e.name);
    expect(names).toEqual([line(0), line(1)].map((l) => decodeEventJson(l).name));
  });
});

describe("closing", () => {
  it("close() stops listening and ends the iteration after what is queued", async () => {
    const input = await receiver();
    expect((await post(input.url, line(0))).status).toBe(200);
    expect((await post(input.url, line(1))).status).toBe(200);
    const it = input[Symbol.asyncIterator]();
    expect((await it.next()).value?.name).toBe("security_file_open");
    const waiting = (async () => {
      const names: string[] = [];
      for (let r = await it.next(); r.done !== true; r = await it.next()) names.push(r.value.name);
      return names;
    })();
    await input.close();
    expect(await waiting).toEqual(["openat"]);
    await expect(post(input.url, line(2))).rejects.toThrow();
  });

  it("close() answers the posts still waiting for room: 200 if queued, 503 if not", async () => {
    const input = await receiver({ queue: { capacity: 1 } });
    const a = send(input.url, line(0));
    await until(() => input.stats().received === 1);
    const b = send(input.url, line(1));
    await b.flushed;
    // Answered after B's request, which was on the wire before it.
    const probe = await fetch(input.url);
    await probe.text();
    await input.close();
    expect(await a.answer).toEqual({ status: 200, text: "" });
    expect(await b.answer).toEqual({ status: 503, text: "shutting down: 0 of 1 events queued\n" });
    const names: string[] = [];
    for await (const e of input) names.push(e.name);
    expect(names).toEqual(["security_file_open"]);
  });

  it("breaking out of the loop closes the server", async () => {
    const input = await receiver();
    expect((await post(input.url, line(0))).status).toBe(200);
    for await (const e of input) {
      expect(e.name).toBe("security_file_open");
      break;
    }
    await input.close();
    await expect(post(input.url, line(1))).rejects.toThrow();
  });

  it("the signal closes it", async () => {
    const controller = new AbortController();
    const input = await receiver({ signal: controller.signal });
    expect((await post(input.url, line(0))).status).toBe(200);
    controller.abort();
    const names: string[] = [];
    for await (const e of input) names.push(e.name);
    expect(names).toEqual(["security_file_open"]);
    await expect(post(input.url, line(1))).rejects.toThrow();
  });
});
