/**
 * Codec bench: `google.protobuf.Value` wire bytes ⇄ JS values.
 *
 * Decode (bytes → JS value) and encode (JS value → bytes) for four payloads,
 * side by side with JSON.parse / JSON.stringify of the same data (the
 * practical limit) and three protobuf libraries, all on the same data.
 *
 * Harness: each candidate is measured in its own phase against the JSON
 * baseline: warm both up, size each one's batch to about BATCH_MS, then
 * ROUNDS rounds in which the two run one batch each (which goes first
 * alternates), and the figure is the median of the per-round ratios. Ours
 * goes first, before any protobuf library has run: google-protobuf allocates
 * tens of MB per call on the big payload, and measured in the same rounds its
 * garbage collections landed in the other candidates' batches. Ratios are
 * the figures; absolute times (medians of the phase's batches) on a shared
 * machine are noise.
 *
 * Run: `npx tsx bench/codec.bench.ts` (or `npm run bench -- codec`).
 * Writes bench/results/codec.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary, fromJson, toBinary, toJson, type JsonValue as EsJsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import type { JsonValue } from "type-fest";
import { fromValueBinary, toValueBinary } from "../src/codec/wire/index.js";
import { Value as TsProtoValue } from "../src/gen/google/protobuf/struct.js";
import { hex } from "./grpc-payload.js";

interface GoogleValueStatic {
  deserializeBinary(bytes: Uint8Array): { toJavaScript(): unknown };
  fromJavaScript(value: unknown): { serializeBinary(): Uint8Array };
}
// google-protobuf is CommonJS and writes globals; benches and tests only.
const require = createRequire(import.meta.url);
const GoogleValue = (require("google-protobuf/google/protobuf/struct_pb.js") as { Value: GoogleValueStatic }).Value;

const BATCH_MS = 10;
const ROUNDS = 15;
const WARMUP_MS = 150;

// ---------------------------------------------------------------- payloads

const ioc = (i: number): JsonValue => ({
  sha256: hex(i + 1),
  domain: `c2-${i % 97}.update.example`,
  ip: `203.0.${i % 256}.${(i * 7) % 256}`,
  severity: (i % 10) + 1,
  tags: ["c2", "linux"],
  first_seen: "2024-05-01T12:00:00Z",
  active: true,
});

const payloads: Array<{ name: string; value: JsonValue }> = [
  { name: "scalar string", value: "203.0.113.77" },
  { name: "threshold (number 10)", value: 10 },
  { name: "IOC record", value: ioc(0) },
  { name: "1,000 IOC records", value: Array.from({ length: 1000 }, (_, i) => ioc(i)) },
];

// ---------------------------------------------------------------- harness

let sink = 0;
const consume = (x: unknown): void => {
  sink = (sink + (typeof x === "object" && x !== null ? 1 : typeof x === "string" ? x.length : 2)) | 0;
};

interface Candidate {
  name: string;
  run: () => unknown;
}

function timeBatch(run: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) consume(run());
  return Number(process.hrtime.bigint() - start) / n;
}

function batchSize(run: () => unknown): number {
  const until = performance.now() + WARMUP_MS;
  let n = 0;
  while (performance.now() < until) {
    consume(run());
    n++;
  }
  return Math.max(1, Math.round((n * BATCH_MS) / WARMUP_MS));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Measured {
  /** Median ns/op per candidate (the baseline's from the first phase). */
  ns: Map<string, number>;
  /** Median over rounds of candidate ÷ baseline, per candidate. */
  ratio: Map<string, number>;
}

/** Measures candidates[1..] one phase each against candidates[0], the baseline (see the header). */
function measure(candidates: Candidate[]): Measured {
  const [base, ...others] = candidates;
  const ns = new Map<string, number>();
  const ratio = new Map<string, number>([[base!.name, 1]]);
  for (const other of others) {
    const nBase = batchSize(base!.run);
    const nOther = batchSize(other.run);
    const baseNs: number[] = [];
    const otherNs: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let b: number;
      let o: number;
      if (round % 2 === 0) {
        b = timeBatch(base!.run, nBase);
        o = timeBatch(other.run, nOther);
      } else {
        o = timeBatch(other.run, nOther);
        b = timeBatch(base!.run, nBase);
      }
      baseNs.push(b);
      otherNs.push(o);
      ratios.push(o / b);
    }
    if (!ns.has(base!.name)) ns.set(base!.name, median(baseNs));
    ns.set(other.name, median(otherNs));
    ratio.set(other.name, median(ratios));
  }
  return { ns, ratio };
}

// ---------------------------------------------------------------- run

interface Row {
  payload: string;
  jsonBytes: number;
  wireBytes: number;
  direction: "decode" | "encode";
  nsPerOp: Record<string, number>;
  ratioToJson: Record<string, number>;
}

const rows: Row[] = [];
const fmt = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(0)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

for (const { name, value } of payloads) {
  const text = JSON.stringify(value);
  const bytes = toValueBinary(value);
  const esMessage = fromBinary(ValueSchema, bytes);

  const decode: Candidate[] = [
    { name: "JSON.parse", run: () => JSON.parse(text) as unknown },
    { name: "fromValueBinary", run: () => fromValueBinary(bytes) },
    { name: "ts-proto", run: () => TsProtoValue.unwrap(TsProtoValue.decode(bytes)) },
    { name: "protobuf-es", run: () => toJson(ValueSchema, fromBinary(ValueSchema, bytes)) },
    { name: "google-protobuf", run: () => GoogleValue.deserializeBinary(bytes).toJavaScript() },
  ];
  const encode: Candidate[] = [
    { name: "JSON.stringify", run: () => JSON.stringify(value) },
    { name: "toValueBinary", run: () => toValueBinary(value) },
    { name: "ts-proto", run: () => TsProtoValue.encode(TsProtoValue.wrap(value)).finish() },
    { name: "protobuf-es", run: () => toBinary(ValueSchema, fromJson(ValueSchema, value as EsJsonValue)) },
    { name: "google-protobuf", run: () => GoogleValue.fromJavaScript(value).serializeBinary() },
  ];
  void esMessage;

  for (const [direction, candidates, base] of [
    ["decode", decode, "JSON.parse"],
    ["encode", encode, "JSON.stringify"],
  ] as const) {
    const { ns, ratio } = measure(candidates);
    const row: Row = {
      payload: name,
      jsonBytes: Buffer.byteLength(text),
      wireBytes: bytes.length,
      direction,
      nsPerOp: Object.fromEntries(ns),
      ratioToJson: Object.fromEntries(ratio),
    };
    rows.push(row);
    console.log(`\n${direction} · ${name} (JSON ${row.jsonBytes} B, wire ${row.wireBytes} B)`);
    console.table(
      candidates.map((c) => ({
        candidate: c.name,
        "time/op": fmt(ns.get(c.name)!),
        [`x ${base}`]: Number(ratio.get(c.name)!.toFixed(2)),
      })),
    );
  }
}

// The summary the issue asks for: ours against JSON and each library.
console.log(
  `\nmeasured: each candidate in its own phase against the JSON baseline, ours first; ${ROUNDS} alternating rounds of ~${BATCH_MS} ms batches; x = median of per-round ratios`,
);
console.log("\nsummary: ours ÷ candidate (below 1 means ours is faster)");
console.table(
  rows.map((r) => {
    const ours = r.direction === "decode" ? "fromValueBinary" : "toValueBinary";
    const entry: Record<string, string | number> = { payload: r.payload, direction: r.direction };
    // From the per-round ratios: (ours ÷ JSON) ÷ (candidate ÷ JSON).
    const oursRatio = r.ratioToJson[ours]!;
    for (const [k, v] of Object.entries(r.ratioToJson)) if (k !== ours) entry[k] = Number((oursRatio / v).toFixed(2));
    return entry;
  }),
);

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "codec.json"),
  `${JSON.stringify({ node: process.version, date: new Date().toISOString(), batchMs: BATCH_MS, rounds: ROUNDS, method: "per candidate, a phase of alternating rounds against the JSON baseline, ours first; ratio = median of per-round ratios", rows }, null, 2)}\n`,
);
if (sink === 0.5) console.log(sink);
