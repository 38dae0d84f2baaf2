import { parseArgs } from "node:util";
import {
  encodeEventJson,
  type EventInput,
  type EventLineError,
  isEventLineError,
  isStreamEventsError,
  type OverflowPolicy,
  TRACEE_EVENTS_ADDRESS,
} from "../../events/index.js";
import { EXIT_OK, EXIT_REFUSED, UsageError } from "../errors.js";
import { tableHeader, tableLine } from "../events-table.js";
import { GRPC_HINT, type InputSpec, openInput, parseInput } from "../inputs.js";
import { type CliIo, println } from "../io.js";
import { oneOf, positiveInteger } from "./shared.js";

/**
 * Events waiting between the input and the terminal. Small on purpose: memory
 * stays bounded, and with blocking a slow terminal is felt at the source soon.
 */
export const EVENTS_QUEUE_CAPACITY = 256;

export const EVENTS_HELP = `Usage: tracee-ds events [--input SOURCE] [options]

Prints Tracee's events as they arrive, like tail -f: from a running Tracee
over gRPC, from NDJSON (a file Tracee wrote with --output json, or standard
input), or from Tracee's webhook output. Stops at the end of a file, after
--count events, or on SIGINT/SIGTERM, printing a summary to standard error.

Options:
  --input SOURCE     where events come from (default grpc:${TRACEE_EVENTS_ADDRESS}):
                       grpc:ADDR            Tracee's gRPC server, unix:///path or host:port
                       json:PATH | json:-   NDJSON from a file, or from standard input
                       webhook:[HOST:]PORT[/PATH]
                                            receive Tracee's webhook posts (host 127.0.0.1
                                            unless given; port 0 picks a free one)
  --policy NAME      only events of this Tracee policy (grpc; repeatable)
  --mask PATH        ask Tracee for these fields only, e.g. workload.process.pid
                     (grpc; repeatable or comma separated)
  --count N          stop after N events
  --format F         json (default): Tracee's JSON, one event per line, byte for byte
                     table: time (UTC), event, comm/pid, container, data
  --reconnect        grpc: when Tracee stops or cannot be reached, retry with backoff
                     (a note on standard error for each retry)
  --drop             when output falls behind, drop the oldest waiting events instead
                     of holding the input back (not for a file)
  --malformed M      json/webhook: skip (default; counted in the summary) or fail
                     (exit 1 at the first line that is not an event)
  -h, --help         show this help

Output falls behind when the terminal or the next program in the pipe is
slower than the events. By default the input is then held back: a file or
standard input is read no faster than it is printed, and a webhook post is
answered late. For grpc that holds Tracee itself back: its stream blocks
Tracee's whole output stage, for every consumer. Add --drop to protect Tracee
and lose events instead; the summary counts them.

Tracee serves gRPC only when started with --server grpc-address=unix:/var/run/tracee.sock.

Exit status: 0 the input ended, --count was reached or a signal stopped it;
1 the input failed (Tracee unreachable, a file unreadable, a malformed line
with --malformed fail); 2 usage error.

Examples:
  tracee-ds events --policy default --format table
  tracee-ds events --input json:events.ndjson --count 10
  tracee --output json | tracee-ds events --input json:- --format table
  tracee-ds events --input webhook:0.0.0.0:8080 --drop`;

/** Flags that only make sense for some inputs: a usage error elsewhere. */
function checkApplies(input: InputSpec, values: Record<string, unknown>): void {
  const onlyFor = (flag: string, kinds: readonly InputSpec["kind"][], what: string) => {
    const v = values[flag];
    const given = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
    if (given && !kinds.includes(input.kind)) throw new UsageError(`--${flag} is for ${what}, not a ${input.kind} input`);
  };
  onlyFor("policy", ["grpc"], "the grpc input (Tracee selects events by policy)");
  onlyFor("mask", ["grpc"], "the grpc input (Tracee trims the fields it sends)");
  onlyFor("reconnect", ["grpc"], "the grpc input");
  onlyFor("malformed", ["json", "webhook"], "json and webhook inputs (gRPC events are always well formed)");
  if (values["drop"] === true && input.kind === "json" && input.path !== "-") {
    throw new UsageError("--drop is for live inputs (grpc, webhook, json:-): a file can wait, nothing needs dropping");
  }
}

/**
 * Waits until `out` can take more or is gone. `onStop` receives the way to
 * stop waiting early (one waiter at a time, nothing kept after it).
 */
function drained(out: CliIo["stdout"], onStop: (wake: (() => void) | undefined) => void): Promise<void> {
  return new Promise((done) => {
    const finish = () => {
      out.off("drain", finish);
      out.off("close", finish);
      out.off("error", finish);
      onStop(undefined);
      done();
    };
    out.on("drain", finish);
    out.on("close", finish);
    out.on("error", finish);
    onStop(finish);
  });
}

/** `events.ndjson:5: not an event: data[2].u_int64: expected …`. */
const lineWhere = (source: string, err: EventLineError): string =>
  `${source}:${err.line}: not an event: ${err.path === "" ? err.reason : `${err.path}: ${err.reason}`}`;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `tracee-ds events`. @internal */
export async function eventsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: "string" },
      policy: { type: "string", multiple: true },
      mask: { type: "string", multiple: true },
      count: { type: "string" },
      format: { type: "string" },
      reconnect: { type: "boolean" },
      drop: { type: "boolean" },
      malformed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.stdout.write(`${EVENTS_HELP}\n`);
    return EXIT_OK;
  }
  const spec = parseInput(values.input ?? `grpc:${TRACEE_EVENTS_ADDRESS}`);
  checkApplies(spec, values);
  const count = positiveInteger("count", values.count);
  const format = oneOf("format", values.format, ["json", "table"] as const, "json");
  const malformed = oneOf("malformed", values.malformed, ["skip", "fail"] as const, "skip");
  const policies = values.policy ?? [];
  const mask = (values.mask ?? []).flatMap((m) => m.split(",")).map((m) => m.trim()).filter((m) => m !== "");
  if (values.mask !== undefined && mask.length === 0) throw new UsageError("--mask: no field paths given");
  const overflow: OverflowPolicy = values.drop === true ? "drop-oldest" : "block";
  const queue = { capacity: EVENTS_QUEUE_CAPACITY, overflow };
  const source = spec.kind === "json" ? (spec.path === "-" ? "stdin" : spec.path) : "";

  // Listen for SIGINT/SIGTERM from the start: a signal while connecting stops too.
  let stopReason: string | undefined;
  let input: EventInput | undefined;
  let wakeWriter: (() => void) | undefined;
  const stop = (reason: string) => {
    stopReason ??= reason;
    wakeWriter?.();
    void input?.close();
  };
  void io.waitForStop().then((signal) => stop(signal));

  // The reader of our output went away (`| head`): stop quietly.
  let outputGone = false;
  const onOutputError = (err: NodeJS.ErrnoException) => {
    outputGone = true;
    stop(err.code === "EPIPE" ? "output closed" : `output failed: ${err.message}`);
  };
  io.stdout.on("error", onOutputError);

  let firstMalformed: EventLineError | undefined;
  try {
    input = await openInput(spec, {
      io,
      policies,
      mask,
      reconnect: values.reconnect === true,
      queue,
      onMalformed:
        malformed === "fail"
          ? "throw"
          : (err) => {
              firstMalformed ??= err;
            },
    });
  } catch (err) {
    io.stdout.off("error", onOutputError);
    throw err;
  }
  if (stopReason !== undefined) void input.close();

  const stdout = io.stdout as CliIo["stdout"] & { isTTY?: boolean; columns?: number };
  const columns = () => (stdout.isTTY === true && typeof stdout.columns === "number" ? stdout.columns : undefined);
  // Wait while the output is backed up, which holds the input back; once
  // stopping, wait no more (a terminal paused with Ctrl-S must not keep a
  // stopped command alive): what is left in the queue, at most its capacity,
  // is handed to the output as it is.
  const write = async (line: string): Promise<void> => {
    if (!io.stdout.write(`${line}\n`) && stopReason === undefined) await drained(io.stdout, (wake) => (wakeWriter = wake));
  };

  // A webhook answers a body that is not an event with 400 and keeps serving;
  // with --malformed fail, the first one stops the command.
  let webhookMalformed = false;
  const watch =
    spec.kind === "webhook" && malformed === "fail"
      ? setInterval(() => {
          if ((input?.stats().malformed ?? 0) > 0) {
            webhookMalformed = true;
            void input?.close();
          }
        }, 50)
      : undefined;
  watch?.unref();

  let printed = 0;
  try {
    if (format === "table") await write(tableHeader(columns()));
    for await (const event of input) {
      if (outputGone || webhookMalformed) break;
      await write(format === "json" ? encodeEventJson(event) : tableLine(event, columns()));
      printed++;
      if (count !== undefined && printed >= count) {
        stopReason ??= `--count ${count} reached`;
        break;
      }
    }
  } catch (err) {
    if (isEventLineError(err)) {
      println(io.stderr, `tracee-ds events: ${lineWhere(source, err)} (--malformed fail)`);
      return EXIT_REFUSED;
    }
    if (isStreamEventsError(err)) {
      println(io.stderr, `tracee-ds events: ${err.message}`);
      if (err.errno === "ENOENT" || err.errno === "ECONNREFUSED") {
        println(io.stderr, GRPC_HINT);
      }
      return EXIT_REFUSED;
    }
    println(io.stderr, `tracee-ds events: ${(err as Error).message}`);
    return EXIT_REFUSED;
  } finally {
    if (watch !== undefined) clearInterval(watch);
    await input.close();
    io.stdout.off("error", onOutputError);
    // Writes still in flight to a reader that left may yet fail: not a crash.
    if (outputGone) io.stdout.on("error", () => undefined);
  }

  const stats = input.stats();
  if (webhookMalformed) {
    println(io.stderr, "tracee-ds events: a post to the webhook was not a Tracee event; it was answered 400 with the reason (--malformed fail)");
    return EXIT_REFUSED;
  }
  if (outputGone) return EXIT_OK;
  if (stats.malformed > 0) {
    const first = firstMalformed === undefined ? "" : `; the first: ${lineWhere(source, firstMalformed)}`;
    const what = spec.kind === "webhook" ? `${plural(stats.malformed, "malformed post")} (answered 400)` : plural(stats.malformed, "malformed line");
    println(io.stderr, `skipped ${what}${first}`);
  }
  const reason = stopReason ?? (spec.kind === "grpc" ? "Tracee ended the stream" : "end of input");
  println(
    io.stderr,
    `${reason}: ${plural(printed, "event")} printed (received ${stats.received}, dropped ${stats.dropped}, malformed ${stats.malformed})`,
  );
  return EXIT_OK;
}
