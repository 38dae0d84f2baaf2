/**
 * The bounded queue between an event input and its consumer: each overflow
 * policy keeps and counts the right items, end() and end(error) come after
 * the queued items, one consumer only, breaking out tells the source; and a
 * model check of drop-oldest.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { EventQueue } from "../../src/events/queue.js";

/** Lets pending promise callbacks and I/O callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Everything the queue still yields, up to its end. */
async function drain<T>(it: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
  return out;
}

describe("options", () => {
  it("defaults to capacity 1024 and block", () => {
    const q = new EventQueue<number>();
    expect(q.capacity).toBe(1024);
    expect(q.overflow).toBe("block");
  });

  it("refuses a capacity below 1 or not whole, and an unknown policy", () => {
    expect(() => new EventQueue({ capacity: 0 })).toThrow(RangeError);
    expect(() => new EventQueue({ capacity: 1.5 })).toThrow(RangeError);
    expect(() => new EventQueue({ overflow: "drop" as "block" })).toThrow(/overflow/);
  });
});

describe("block", () => {
  it("push returns a promise once full, which resolves when the consumer takes one", async () => {
    const q = new EventQueue<number>({ capacity: 2, overflow: "block" });
    expect(q.push(1)).toBeUndefined();
    const full = q.push(2);
    expect(full).toBeInstanceOf(Promise);
    let room = false;
    void full?.then(() => (room = true));
    await turn();
    expect(room).toBe(false);
    expect(q.stats()).toEqual({ received: 2, dropped: 0, malformed: 0, queued: 2 });

    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    await full;
    expect(room).toBe(true);
    expect(q.stats().queued).toBe(1);
  });

  it("keeps every item, in order", async () => {
    const q = new EventQueue<number>({ capacity: 3, overflow: "block" });
    const it = q[Symbol.asyncIterator]();
    const produced = (async () => {
      for (let i = 0; i < 50; i++) await q.push(i);
      q.end();
    })();
    const seen = await drain(it);
    await produced;
    expect(seen).toEqual([...Array(50).keys()]);
    expect(q.stats()).toEqual({ received: 50, dropped: 0, malformed: 0, queued: 0 });
  });

  it("end() wakes a producer waiting for room", async () => {
    const q = new EventQueue<number>({ capacity: 1 });
    const full = q.push(1);
    q.end();
    await expect(full).resolves.toBeUndefined();
  });
});

describe("drop-newest", () => {
  it("keeps the older items and counts what it drops", async () => {
    const q = new EventQueue<number>({ capacity: 3, overflow: "drop-newest" });
    for (let i = 1; i <= 5; i++) expect(q.push(i)).toBeUndefined();
    expect(q.stats()).toEqual({ received: 5, dropped: 2, malformed: 0, queued: 3 });
    q.end();
    expect(await drain(q[Symbol.asyncIterator]())).toEqual([1, 2, 3]);
  });
});

describe("drop-oldest", () => {
  it("keeps the newer items and counts what it drops", async () => {
    const q = new EventQueue<number>({ capacity: 3, overflow: "drop-oldest" });
    for (let i = 1; i <= 5; i++) expect(q.push(i)).toBeUndefined();
    expect(q.stats()).toEqual({ received: 5, dropped: 2, malformed: 0, queued: 3 });
    q.end();
    expect(await drain(q[Symbol.asyncIterator]())).toEqual([3, 4, 5]);
  });

  it("the consumer sees a subsequence that keeps the newest; received = seen + dropped", async () => {
    // A run: pushes and takes interleaved. "take" asks for the next item
    // only when one is queued, as a busy consumer would find it.
    const op = fc.constantFrom("push", "push", "take");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 120 }), async (capacity, ops) => {
        const q = new EventQueue<number>({ capacity, overflow: "drop-oldest" });
        const it = q[Symbol.asyncIterator]();
        const model: number[] = [];
        const expected: number[] = [];
        const seen: number[] = [];
        let pushed = 0;
        for (const o of ops) {
          if (o === "push") {
            const n = pushed++;
            expect(q.push(n)).toBeUndefined();
            if (model.length >= capacity) model.shift();
            model.push(n);
          } else if (q.size > 0) {
            const r = await it.next();
            seen.push(r.value as number);
            expected.push(model.shift() as number);
          }
          expect(q.size).toBeLessThanOrEqual(capacity);
        }
        q.end();
        seen.push(...(await drain(it)));
        expected.push(...model);

        expect(seen).toEqual(expected);
        // In order, no repeats: a subsequence of 0..pushed-1.
        for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
        // The newest `capacity` items are never dropped.
        for (let n = Math.max(0, pushed - capacity); n < pushed; n++) expect(seen).toContain(n);
        const { received, dropped } = q.stats();
        expect(received).toBe(pushed);
        expect(received).toBe(seen.length + dropped);
      }),
    );
  });
});

describe("the end", () => {
  it("end() comes after the queued items", async () => {
    const q = new EventQueue<string>();
    q.push("a");
    q.push("b");
    q.end();
    expect(q.push("c")).toBeUndefined(); // after the end: ignored
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: "a", done: false });
    expect(await it.next()).toEqual({ value: "b", done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(q.stats().received).toBe(2);
  });

  it("end(error) rejects after the queued items", async () => {
    const q = new EventQueue<string>();
    q.push("a");
    const boom = new Error("boom");
    q.end(boom);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: "a", done: false });
    await expect(it.next()).rejects.toBe(boom);
  });

  it("a waiting consumer gets the end, or the error", async () => {
    const q = new EventQueue<string>();
    const it = q[Symbol.asyncIterator]();
    const waiting = it.next();
    q.end();
    expect(await waiting).toEqual({ value: undefined, done: true });

    const r = new EventQueue<string>();
    const failing = r[Symbol.asyncIterator]().next();
    const boom = new Error("boom");
    r.end(boom);
    await expect(failing).rejects.toBe(boom);
  });

  it("a waiting consumer gets the next item straight away", async () => {
    const q = new EventQueue<number>({ capacity: 1 });
    const it = q[Symbol.asyncIterator]();
    const waiting = it.next();
    expect(q.push(7)).toBeUndefined(); // handed over, not queued: no wait
    expect(await waiting).toEqual({ value: 7, done: false });
    expect(q.stats()).toEqual({ received: 1, dropped: 0, malformed: 0, queued: 0 });
  });
});

describe("the consumer", () => {
  it("can iterate only once", () => {
    const q = new EventQueue<number>();
    q[Symbol.asyncIterator]();
    expect(() => q[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("breaking out calls onConsumerDone once and ends the queue", async () => {
    const q = new EventQueue<number>({ capacity: 4 });
    const done = vi.fn();
    q.onConsumerDone = done;
    for (let i = 0; i < 3; i++) q.push(i);
    for await (const n of q) if (n === 0) break;
    expect(done).toHaveBeenCalledTimes(1);
    expect(q.ended).toBe(true);
    expect(q.stats().queued).toBe(0);
    expect(q.push(9)).toBeUndefined();
    expect(q.stats().received).toBe(3);
  });

  it("countMalformed counts", () => {
    const q = new EventQueue<number>();
    q.countMalformed();
    q.countMalformed();
    expect(q.stats().malformed).toBe(2);
  });
});
