/**
 * `--input`: where Tracee's events come from, for `tracee-ds events` and
 * `tracee-ds run`.
 *
 * @internal
 * @module
 */
import { resolve } from "node:path";
import {
  type EventInput,
  type EventLineError,
  type OverflowPolicy,
  readEvents,
  type ReconnectInfo,
  streamEvents,
  webhookEvents,
} from "../events/index.js";
import { parseAddress } from "../grpc/address.js";
import { UsageError } from "./errors.js";
import { type CliIo, println } from "./io.js";

/** Where events come from, from `--input`. */
export type InputSpec =
  | { readonly kind: "grpc"; readonly address: string }
  | { readonly kind: "json"; readonly path: string }
  | { readonly kind: "webhook"; readonly host: string; readonly port: number; readonly path: string };

const INPUT_FORMS = "grpc:ADDR, json:PATH, json:- or webhook:[HOST:]PORT[/PATH]";

/** Parses `--input`. @internal */
export function parseInput(text: string): InputSpec {
  const colon = text.indexOf(":");
  const scheme = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? "" : text.slice(colon + 1);
  switch (scheme) {
    case "grpc": {
      try {
        parseAddress(rest);
      } catch (err) {
        throw new UsageError(`--input grpc:ADDR: ${(err as Error).message}`);
      }
      return { kind: "grpc", address: rest };
    }
    case "json":
      if (rest === "") throw new UsageError('--input json:PATH needs a file, or "-" for standard input');
      return { kind: "json", path: rest };
    case "webhook": {
      const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[^:[\]/]+):)?(\d{1,5})(\/[^?#\s]*)?$/.exec(rest);
      const port = Number(match?.[2]);
      if (match === null || port > 65535) {
        throw new UsageError(`--input webhook: expected webhook:PORT, webhook:HOST:PORT or webhook:HOST:PORT/PATH, got ${JSON.stringify(text)}`);
      }
      const host = (match[1] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
      return { kind: "webhook", host, port, path: match[3] ?? "/" };
    }
    default:
      throw new UsageError(`--input: expected ${INPUT_FORMS}, got ${JSON.stringify(text)}`);
  }
}


/** How {@link openInput} opens an input. @internal */
export interface OpenInputOptions {
  readonly io: CliIo;
  /** grpc: Tracee policies to select (none: all). */
  readonly policies?: readonly string[];
  /** grpc: the fields to ask Tracee for. */
  readonly mask?: readonly string[];
  /** grpc: retry with backoff when Tracee stops or cannot be reached. */
  readonly reconnect?: boolean;
  readonly queue: { readonly capacity: number; readonly overflow: OverflowPolicy };
  /** json and webhook: a line or post that is not an event. */
  readonly onMalformed: "throw" | ((err: EventLineError) => void);
}

/** Opens the input `spec` names; a webhook prints the address it listens on. @internal */
export async function openInput(spec: InputSpec, options: OpenInputOptions): Promise<EventInput> {
  const { io, queue } = options;
  switch (spec.kind) {
    case "grpc":
      return streamEvents({
        address: spec.address,
        policies: [...(options.policies ?? [])],
        ...(options.mask !== undefined && options.mask.length > 0 ? { mask: [...options.mask] } : {}),
        reconnect: options.reconnect === true,
        onReconnect: (info: ReconnectInfo) => {
          const why = info.error === undefined ? "Tracee ended the stream" : info.error.message;
          println(io.stderr, `reconnecting in ${info.delayMs}ms (attempt ${info.attempt}): ${why}`);
        },
        queue,
      });
    case "json":
      return readEvents(spec.path === "-" ? io.stdin : resolve(io.cwd, spec.path), { queue, onMalformed: options.onMalformed });
    case "webhook": {
      const webhook = await webhookEvents({ host: spec.host, port: spec.port, path: spec.path, queue });
      println(io.stderr, `listening on ${webhook.url} (tracee --output webhook:${webhook.url})`);
      return webhook;
    }
  }
}

/** The hint for a Tracee that cannot be reached over gRPC. @internal */
export const GRPC_HINT =
  "Tracee serves gRPC only when started with --server grpc-address=unix:/var/run/tracee.sock (or tcp:HOST:PORT); give that address with --input grpc:ADDR";
