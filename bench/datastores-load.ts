/**
 * Datastores bench, load process: `DataStoreClient.ipReputation()` writing
 * entries of datastores-entries.ts as source `bench-feed`, either
 *
 * - `writeAll` from a lazy generator (`maxBatchBytes`, `maxBatchEntries`,
 *   `concurrency` as given, else writeAll's defaults), or
 * - unary `write`, `concurrency` callers each writing its share in turn.
 *
 * Every run dials its own connection and, before the clock starts, warms up
 * (200 unary writes and a 20,000-entry writeAll as source `warm-up`, from
 * addresses the run does not use) and clears what the warm-up wrote, so the
 * store holds only the run's entries afterwards.
 *
 * Forked by datastores.bench.ts, one per run, driven over IPC:
 * `{ type: "warm-up", target }` → `{ type: "warm" }` (dials and warms up),
 * then `{ type: "run", task }` → `{ type: "result", result }`; failures of
 * either answer `{ type: "error", error }`.
 * Standalone (for a profile), one JSON line:
 *   node --cpu-prof --import tsx bench/datastores-load.ts TARGET writeAll|unary N [CONCURRENCY]
 *
 * @internal
 */
import { performance } from "node:perf_hooks";
import { DataStoreClient, type RemoteDataStore, type WriteAllOptions } from "../src/grpc/index.js";
import type { IPReputation } from "../src/index.js";
import { MAX_ENTRIES, reputationOf, reputations } from "./datastores-entries.js";

export interface LoadTask {
  readonly target: string;
  readonly mode: "writeAll" | "unary";
  /** Index of the first entry. */
  readonly first: number;
  /** Entries to write (unary: rounded down to a multiple of `concurrency`). */
  readonly n: number;
  /** writeAll: batches in flight; unary: concurrent callers. */
  readonly concurrency: number;
  readonly maxBatchBytes?: number;
  readonly maxBatchEntries?: number;
}

export interface LoadResult {
  readonly mode: string;
  /** Entries the server acknowledged. */
  readonly entries: number;
  /** writeAll: the server's `written_count`s summed; unary: acknowledged writes. */
  readonly stored: number;
  /** writeAll: batches; unary: calls. */
  readonly calls: number;
  /** writeAll: request bytes of the batches. */
  readonly bytes: number;
  readonly seconds: number;
  readonly entriesPerS: number;
  readonly failures: number;
  /** The first few distinct failure messages. */
  readonly errors: string[];
}

export const SOURCE = "bench-feed";
const WARM_UP_SOURCE = "warm-up";
const WARM_UP_UNARY = 200;
const WARM_UP_BATCHED = 20_000;
/** Entries each warm-up writes (and clears). */
export const WARM_UP_ENTRIES = WARM_UP_UNARY + WARM_UP_BATCHED;
/** Warm-up entries come from the top of the address range, which runs never reach. */
const WARM_UP_FIRST = MAX_ENTRIES - WARM_UP_ENTRIES;

/** A connection to `target` for runs; `warmUp` before the first. */
export class Load {
  readonly #client: DataStoreClient;
  readonly #store: RemoteDataStore<string, IPReputation>;

  constructor(target: string) {
    this.#client = new DataStoreClient(target);
    this.#store = this.#client.ipReputation();
  }

  /** Dials, warms both paths up, and clears what it wrote. */
  async warmUp(): Promise<void> {
    const store = this.#store;
    for (let i = 0; i < WARM_UP_UNARY; i++) await store.write(WARM_UP_SOURCE, reputationOf(WARM_UP_FIRST + i));
    await store.writeAll(WARM_UP_SOURCE, reputations(WARM_UP_FIRST + WARM_UP_UNARY, WARM_UP_BATCHED));
    const cleared = await store.clear(WARM_UP_SOURCE);
    if (cleared !== WARM_UP_ENTRIES) throw new Error(`the warm-up cleared ${cleared} entries, expected ${WARM_UP_ENTRIES}`);
  }

  close(): void {
    this.#client.close();
  }

  /** One timed run. */
  async run(task: LoadTask): Promise<LoadResult> {
    const store = this.#store;
    const errors = new Set<string>();
    let failures = 0;
    const fail = (err: unknown) => {
      failures++;
      if (errors.size < 5) errors.add(err instanceof Error ? err.message : String(err));
    };

    if (task.mode === "writeAll") {
      const options: WriteAllOptions = {
        concurrency: task.concurrency,
        ...(task.maxBatchBytes === undefined ? {} : { maxBatchBytes: task.maxBatchBytes }),
        ...(task.maxBatchEntries === undefined ? {} : { maxBatchEntries: task.maxBatchEntries }),
      };
      const start = performance.now();
      let out = { written: 0, stored: 0, batches: 0, bytes: 0 };
      try {
        out = await store.writeAll(SOURCE, reputations(task.first, task.n), options);
      } catch (err) {
        fail(err);
      }
      const seconds = (performance.now() - start) / 1000;
      return {
        mode: task.mode,
        entries: out.written,
        stored: out.stored,
        calls: out.batches,
        bytes: out.bytes,
        seconds,
        entriesPerS: out.written / seconds,
        failures,
        errors: [...errors],
      };
    }

    const per = Math.floor(task.n / task.concurrency);
    let acked = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: task.concurrency }, async (_, w) => {
        const from = task.first + w * per;
        for (let i = from; i < from + per; i++) {
          try {
            await store.write(SOURCE, reputationOf(i));
            acked++;
          } catch (err) {
            fail(err);
          }
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return {
      mode: task.mode,
      entries: acked,
      stored: acked,
      calls: per * task.concurrency,
      bytes: 0,
      seconds,
      entriesPerS: acked / seconds,
      failures,
      errors: [...errors],
    };
  }
}

if (process.send !== undefined) {
  let load: Load | undefined;
  const answer = (type: string, work: () => Promise<unknown>) =>
    work().then(
      (result) => process.send?.({ type, result }),
      (err: unknown) => process.send?.({ type: "error", error: err instanceof Error ? err.message : String(err) }),
    );
  process.on("message", (message: { type: string; target: string; task: LoadTask }) => {
    if (message.type === "warm-up") {
      load = new Load(message.target);
      void answer("warm", () => (load as Load).warmUp());
    } else if (message.type === "run") {
      void answer("result", () => (load ?? new Load(message.task.target)).run(message.task));
    } else if (message.type === "stop") {
      load?.close();
      process.exit(0);
    }
  });
  process.send({ type: "ready", pid: process.pid });
} else if (process.argv.length > 3) {
  const [target, mode, n, c] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
  if (mode !== "writeAll" && mode !== "unary") throw new Error(`mode must be writeAll or unary, got ${mode}`);
  const load = new Load(target);
  await load.warmUp();
  const result = await load.run({
    target,
    mode,
    first: 0,
    n: Number(n ?? 100_000),
    concurrency: Number(c ?? (mode === "unary" ? 16 : 1)),
  });
  load.close();
  console.log(JSON.stringify(result));
  process.exit(result.failures === 0 ? 0 : 1);
}
