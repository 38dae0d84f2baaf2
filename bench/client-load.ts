/**
 * Client bench, load process: the load of the Go reference client goload
 * (../shared/go-reference/load.go), driven by one of two clients:
 *
 * - ours: `DataSourceClient` (its `dataSource("e2e_inst", "demo")` writer),
 *   keys and values as JSON strings, encoded by the client;
 * - raw:  a grpc-js `Client` with identity (de)serializers sending bytes
 *   encoded before the clock starts (what a client must do at the least),
 *   its retry buffer off (see RAW_OPTIONS: with it, grpc-js is quadratic in
 *   a long stream of small messages).
 *
 * The load, as goload's: `-c C` concurrent unary callers, or `-c C`
 * concurrent `WriteStream`s, N/C writes each; write i has the string key
 * `key-(i % 4096)` and the string value `value-i`. Like goload, each run
 * dials its own connection and makes 200 unary warm-up writes before the
 * clock starts, and the result is one JSON line
 * `{ client, mode, writes, concurrency, seconds, writes_per_s, failures }`.
 *
 * Standalone (for a profile):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/client-load.ts \
 *     -target 127.0.0.1:PORT -mode stream -n 200000 -c 4 [-client ours|raw] [-repeat K]
 * Forked by client.bench.ts with no arguments: takes `{ type: "run", task }`
 * over IPC and answers `{ type: "result", result }`.
 *
 * @internal
 */
import { performance } from "node:perf_hooks";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { DataSourceClient, WRITE_PATH, WRITE_STREAM_PATH } from "../src/grpc/index.js";
import { RequestEncoder } from "../src/grpc/request-codec.js";

export interface LoadTask {
  readonly client: "ours" | "raw";
  readonly target: string;
  readonly mode: "unary" | "stream";
  /** Writes in total (rounded down to a multiple of `concurrency`, as goload does). */
  readonly n: number;
  readonly concurrency: number;
  readonly namespace?: string;
  readonly id?: string;
}

export interface LoadResult {
  client: string;
  mode: string;
  writes: number;
  concurrency: number;
  seconds: number;
  writes_per_s: number;
  failures: number;
  /** The first few distinct failure messages. */
  errors: string[];
}

const WARM_UP = 200;
const KEYS = 4096;
const keyOf = (i: number) => `key-${i % KEYS}`;
const valueOf = (i: number) => `value-${i}`;

class Failures {
  count = 0;
  readonly messages = new Set<string>();
  add(err: unknown): void {
    this.count++;
    if (this.messages.size < 5) this.messages.add(err instanceof Error ? err.message : String(err));
  }
}

function result(task: LoadTask, writes: number, ms: number, failures: Failures): LoadResult {
  const seconds = ms / 1000;
  return {
    client: task.client,
    mode: task.mode,
    writes,
    concurrency: task.concurrency,
    seconds,
    writes_per_s: writes / seconds,
    failures: failures.count,
    errors: [...failures.messages],
  };
}

async function runOurs(task: LoadTask): Promise<LoadResult> {
  const client = new DataSourceClient(task.target);
  try {
    await client.waitForReady(5000);
    const ds = client.dataSource(task.namespace ?? "e2e_inst", task.id ?? "demo");
    for (let i = 0; i < WARM_UP; i++) await ds.write(keyOf(i), valueOf(i));
    const per = Math.floor(task.n / task.concurrency);
    const failures = new Failures();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: task.concurrency }, async (_, w) => {
        const first = w * per;
        if (task.mode === "unary") {
          for (let i = first; i < first + per; i++) {
            try {
              await ds.write(keyOf(i), valueOf(i));
            } catch (err) {
              failures.add(err);
            }
          }
          return;
        }
        function* entries(): Generator<readonly [string, string]> {
          for (let i = first; i < first + per; i++) yield [keyOf(i), valueOf(i)];
        }
        try {
          await ds.writeStream(entries());
        } catch (err) {
          failures.add(err);
        }
      }),
    );
    return result(task, per * task.concurrency, performance.now() - start, failures);
  } finally {
    client.close();
  }
}

// ---- raw grpc-js: the same requests, encoded before the clock starts (kept across runs)

const identity = (b: Buffer) => b;
/**
 * grpc-js keeps each call's sent messages for a retry, up to 256 KiB, and
 * drops them with `writeBuffer.slice(…)` on every completed write: a stream
 * of tens of thousands of small messages turns quadratic (50,000 ~50-byte
 * messages: 10-20 s instead of 1 s, nearly all in `clearSentMessages`). With
 * no retry buffer a call is committed at once and the buffer stays short.
 */
const RAW_OPTIONS = { "grpc.per_rpc_retry_buffer_size": 0, "grpc.enable_retries": 0 };
const encoder = new RequestEncoder(64);
let encoded: { namespace: string; id: string; messages: Buffer[] } | undefined;
function requests(namespace: string, id: string, count: number): Buffer[] {
  if (encoded === undefined || encoded.namespace !== namespace || encoded.id !== id) {
    encoded = { namespace, id, messages: [] };
  }
  const messages = encoded.messages;
  for (let i = messages.length; i < count; i++) messages.push(encoder.encode(namespace, id, keyOf(i), valueOf(i)));
  return messages;
}

const unaryCall = (client: Client, bytes: Buffer) =>
  new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(WRITE_PATH, identity, identity, bytes, new Metadata(), {}, (err) => (err ? reject(err) : resolve()));
  });

function rawStream(client: Client, messages: Buffer[], first: number, count: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const call = client.makeClientStreamRequest(WRITE_STREAM_PATH, identity, identity, new Metadata(), {}, (err) =>
      err ? reject(err) : resolve(),
    );
    let i = first;
    const end = first + count;
    const pump = () => {
      while (i < end) {
        if (!call.write(messages[i++] as Buffer)) {
          call.once("drain", pump);
          return;
        }
      }
      call.end();
    };
    pump();
  });
}

async function runRaw(task: LoadTask): Promise<LoadResult> {
  const per = Math.floor(task.n / task.concurrency);
  const messages = requests(task.namespace ?? "e2e_inst", task.id ?? "demo", Math.max(per * task.concurrency, WARM_UP));
  const client = new Client(task.target, credentials.createInsecure(), RAW_OPTIONS);
  try {
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
    );
    for (let i = 0; i < WARM_UP; i++) await unaryCall(client, messages[i] as Buffer);
    const failures = new Failures();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: task.concurrency }, async (_, w) => {
        const first = w * per;
        if (task.mode === "unary") {
          for (let i = first; i < first + per; i++) {
            try {
              await unaryCall(client, messages[i] as Buffer);
            } catch (err) {
              failures.add(err);
            }
          }
          return;
        }
        try {
          await rawStream(client, messages, first, per);
        } catch (err) {
          failures.add(err);
        }
      }),
    );
    return result(task, per * task.concurrency, performance.now() - start, failures);
  } finally {
    client.close();
  }
}

export function runLoad(task: LoadTask): Promise<LoadResult> {
  return task.client === "raw" ? runRaw(task) : runOurs(task);
}

// ---- entry points

function parseArgs(argv: string[]): LoadTask & { repeat: number } {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const name = (argv[i] as string).replace(/^--?/, "");
    const eq = name.indexOf("=");
    if (eq >= 0) flags.set(name.slice(0, eq), name.slice(eq + 1));
    else flags.set(name, argv[++i] ?? "");
  }
  const mode = flags.get("mode") ?? "unary";
  const client = flags.get("client") ?? "ours";
  if (mode !== "unary" && mode !== "stream") throw new Error(`-mode must be unary or stream, got ${mode}`);
  if (client !== "ours" && client !== "raw") throw new Error(`-client must be ours or raw, got ${client}`);
  return {
    client,
    mode,
    target: flags.get("target") ?? "127.0.0.1:50051",
    n: Number(flags.get("n") ?? 20000),
    concurrency: Number(flags.get("c") ?? 16),
    namespace: flags.get("ns") ?? "e2e_inst",
    id: flags.get("id") ?? "demo",
    repeat: Number(flags.get("repeat") ?? 1),
  };
}

if (process.argv.length > 2) {
  // Standalone, like goload: one JSON line per run; exit 1 on failures.
  const { repeat, ...task } = parseArgs(process.argv.slice(2));
  let failed = false;
  for (let r = 0; r < repeat; r++) {
    const out = await runLoad(task);
    console.log(JSON.stringify(out));
    failed ||= out.failures > 0;
  }
  process.exit(failed ? 1 : 0);
} else if (process.send !== undefined) {
  process.on("message", (message: { type: string; task: LoadTask }) => {
    if (message.type === "run") {
      runLoad(message.task).then(
        (out) => process.send?.({ type: "result", result: out }),
        (err: unknown) => process.send?.({ type: "error", error: err instanceof Error ? err.message : String(err) }),
      );
    } else if (message.type === "stop") {
      process.exit(0);
    }
  });
  process.send({ type: "ready" });
}
