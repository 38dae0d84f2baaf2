/**
 * One client cannot hold the server's memory: 50 streams of 3.5 MB entries
 * that never finish, against the default byte limits, with the server in a
 * process of its own so its heap can be measured while it holds them.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_SERVER_BUFFERED_BYTES, type ServiceStats, Status } from "tracee-ds/grpc";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clientFor, RawClient, type RawOutcome, request, sendFrame, stringValue, TRANSPORTS, addressFor } from "./helpers.js";

const STREAMS = 50;
const ENTRY_BYTES = 3.5e6;
/**
 * Long enough that no stream times out before all of them were sent and the
 * heap measured (sending takes 5 to 10 s on a loaded 2-CPU machine); a
 * stream that timed out early would free its bytes and hide what the server
 * holds. The test checks that none did.
 */
const IDLE_MS = 20_000;
const MiB = 1024 * 1024;
/**
 * The most the server's heap may grow, over its baseline, while it holds the
 * streams. Measured with Node 20 and grpc-js 1.14: this server grows ~425
 * MiB, its budget's ≤ 256 MiB of entries (held as strings, ~1 byte per
 * request byte) plus the raw chunks of each live call's last message, which
 * grpc-js keeps until the next one starts (50 × 3.5 MB = 167 MiB). The same
 * server with no byte limits (as before maxServerBufferedBytes) holds all
 * 50 × 7 MB and grows ~503 MiB, over this bound.
 */
const HELD_HEAP_BOUND = 1.8 * DEFAULT_MAX_SERVER_BUFFERED_BYTES;

type Reply = { address: string } | { heap: number } | { stats: ServiceStats };

class ServerProcess {
  readonly #child: ChildProcess;
  readonly #replies: ((reply: Reply) => void)[] = [];

  constructor(address: string) {
    this.#child = fork(fileURLToPath(new URL("./fixtures/memory-server.ts", import.meta.url)), [address, String(IDLE_MS)], {
      execArgv: ["--expose-gc", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (reply: Reply) => this.#replies.shift()?.(reply));
  }

  #next<T extends Reply>(message?: string): Promise<T> {
    const reply = new Promise<T>((resolve) => this.#replies.push(resolve as (r: Reply) => void));
    if (message !== undefined) this.#child.send(message);
    return reply;
  }

  async address(): Promise<string> {
    return (await this.#next<{ address: string }>()).address;
  }
  async heap(): Promise<number> {
    return (await this.#next<{ heap: number }>("heap")).heap;
  }
  async stats(): Promise<ServiceStats> {
    return (await this.#next<{ stats: ServiceStats }>("stats")).stats;
  }
  stop(): void {
    this.#child.kill();
  }
}

const children: ServerProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.stop();
});

describe.each(TRANSPORTS)("server memory under never-finishing streams, %s", (transport) => {
  it(`${STREAMS} streams of two 3.5 MB entries: the heap stays bounded, the excess is refused, the rest time out, others are served, the heap comes back`, { timeout: 120_000 }, async () => {
    const server = new ServerProcess(addressFor(transport));
    children.push(server);
    const address = await server.address();

    // Warm up the paths the streams use, then take the baseline.
    const client = clientFor({ address });
    await client.write({ namespace: "test", id: "memory", key: "warm", value: "x".repeat(1000) });
    await client.writeStream([{ namespace: "test", id: "memory", key: "warm2", value: 1 }]);
    const baseline = await server.heap();

    // Five connections of ten streams: HTTP/2 flow control per connection
    // would otherwise trickle 350 MB through one window.
    const raws = Array.from({ length: 5 }, () => new RawClient(address));
    const entry = (s: number, n: number) =>
      request({ namespace: "test", id: "memory", key: stringValue(`s${s}-${n}`), value: stringValue("x".repeat(ENTRY_BYTES)) });
    const outcomes: Promise<RawOutcome>[] = [];
    const sent: Promise<void>[] = [];
    for (let s = 0; s < STREAMS; s++) {
      const { call, outcome } = raws[s % raws.length]!.open();
      outcomes.push(outcome);
      // Two entries, then nothing: never half-closed.
      sent.push(
        (async () => {
          for (let n = 0; n < 2; n++) await Promise.race([sendFrame(call, entry(s, n)).catch(() => undefined), outcome]);
        })(),
      );
    }
    await Promise.all(sent);

    // While the streams are held (every one sent, none timed out yet): the
    // server's heap stays bounded, and it serves another client.
    // Sent is not yet received: wait until every stream still open holds both its entries.
    const held = await vi.waitFor(
      async () => {
        const stats = await server.stats();
        expect(stats.bufferedBytes).toBeGreaterThanOrEqual(stats.openStreams * 2 * ENTRY_BYTES);
        return stats;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(held.limitsExceeded.streamIdleTimeoutMs, "no stream may time out before the heap is measured").toBe(0);
    expect(held.openStreams + held.limitsExceeded.maxServerBufferedBytes).toBe(STREAMS);
    const heldHeap = await server.heap();
    expect((heldHeap - baseline) / MiB).toBeLessThan(HELD_HEAP_BOUND / MiB);
    const other = clientFor({ address });
    await other.write({ namespace: "test", id: "memory", key: "meanwhile", value: 1 });

    const ended = await Promise.all(outcomes);
    const refused = ended.filter((o) => o.code === Status.RESOURCE_EXHAUSTED);
    const timedOut = ended.filter((o) => o.code === Status.DEADLINE_EXCEEDED);
    expect(refused.length + timedOut.length).toBe(STREAMS);
    expect(refused.length).toBeGreaterThan(0);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(refused[0]?.details).toMatch(/maxServerBufferedBytes/);
    expect(timedOut[0]?.details).toMatch(new RegExp(`^no message for ${IDLE_MS} ms`));

    const after = await server.stats();
    expect(after).toMatchObject({ openStreams: 0, bufferedBytes: 0, committedStreams: 1 });
    expect(after.limitsExceeded.maxServerBufferedBytes).toBe(refused.length);
    expect(after.limitsExceeded.streamIdleTimeoutMs).toBe(timedOut.length);

    const heap = await server.heap();
    expect(Math.abs(heap - baseline) / MiB).toBeLessThan(20);
  });
});
