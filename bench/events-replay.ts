/**
 * The replay server of bench/events.bench.ts, in a process of its own: a
 * fake Tracee that sends N events (the sample lines, repeated) to every
 * StreamEvents call, then ends the stream. Reports its address over IPC.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeEventJson } from "../src/events/json/decode.js";
import { fakeTracee } from "../src/testing/fake-tracee.js";

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 100_000);
const samples = readFileSync(join(here, "../test/fixtures/events/v1beta1.ndjson"), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map(decodeEventJson);
const events = Array.from({ length: n }, (_, i) => samples[i % samples.length] as (typeof samples)[number]);
const tracee = await fakeTracee({ events });
process.send?.({ address: tracee.address });
