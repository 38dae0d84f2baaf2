/**
 * Typed decode: wire bytes → a value checked against a `t` schema, measured
 * side by side with `JSON.parse` of the same data (the practical limit).
 *
 * Target (issue 3): decoding wire bytes into the typed record costs at most
 * 1.5x `JSON.parse`. Candidates per payload:
 *   JSON.parse               the baseline
 *   decode (value)           the typed check alone, on an already decoded value
 *   JSON.parse + decode      text → typed
 *   fromValueBinary          wire bytes → JSON value (the wire half)
 *   fromValueBinary + decode wire bytes → typed: the target path
 *
 * Harness: a warm-up round, then rounds that alternate the candidates, each
 * timing a batch sized to ~40 ms; the figure is the median ns/op over rounds.
 * Absolute times on a shared machine are noise; the ratios are the result.
 * Writes bench/results/schema.json.
 *
 * Run: npx tsx bench/schema.bench.ts  (or npm run bench -- schema)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode, t, type Schema } from "../src/codec/schema/index.js";

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface Wire {
  fromValueBinary(bytes: Uint8Array): unknown;
  toValueBinary(value: JsonValue): Uint8Array;
}

async function loadWire(): Promise<Wire | undefined> {
  try {
    const wire = (await import("../src/codec/wire/index.js")) as Partial<Wire>;
    if (typeof wire.fromValueBinary === "function" && typeof wire.toValueBinary === "function") return wire as Wire;
  } catch (err) {
    console.warn(`wire codec not loadable, bytes → typed not measured: ${(err as Error).message}`);
  }
  return undefined;
}

// --- payloads ----------------------------------------------------------------

const Ioc = t.record({
  sha256: t.string({ pattern: /^[0-9a-f]{64}$/ }),
  domain: t.string(),
  ip: t.string(),
  severity: t.enum(["low", "medium", "high", "critical"]),
  score: t.int({ min: 0, max: 100 }),
  tags: t.list(t.string()),
  first_seen: t.string(),
  active: t.bool(),
  source: t.optional(t.string()),
});

function ioc(i: number): JsonValue {
  const hex = (i * 2654435761).toString(16).padStart(8, "0").slice(-8);
  return {
    sha256: hex.repeat(8),
    domain: `c2-${i % 97}.evil.example`,
    ip: `203.0.${i % 256}.${(i * 7) % 256}`,
    severity: (["low", "medium", "high", "critical"] as const)[i % 4] ?? "low",
    score: i % 101,
    tags: ["c2"],
    first_seen: "2024-05-01",
    active: true,
  };
}

interface Payload {
  readonly name: string;
  readonly schema: Schema<unknown>;
  readonly value: JsonValue;
}

const payloads: Payload[] = [
  { name: "scalar (int 5)", schema: t.int({ min: 1 }), value: 5 },
  { name: "threshold record", schema: t.record({ threshold: t.int({ min: 1 }) }), value: { threshold: 5 } },
  { name: "IOC record", schema: Ioc, value: ioc(1) },
  { name: "1,000 IOC records", schema: t.list(Ioc), value: Array.from({ length: 1000 }, (_, i) => ioc(i)) },
];

// --- harness -----------------------------------------------------------------

let sink = 0;
function consume(v: unknown): void {
  sink = (sink + (typeof v === "object" ? 1 : typeof v === "number" ? 2 : 3)) | 0;
}

const BATCH_MS = 40;
const ROUNDS = 11;

function timeBatch(fn: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) consume(fn());
  return Number(process.hrtime.bigint() - start) / n;
}

/** Iterations that take about BATCH_MS. */
function calibrate(fn: () => unknown): number {
  let n = 1;
  for (;;) {
    const ns = timeBatch(fn, n) * n;
    if (ns > 2e6 || n >= 1 << 24) return Math.max(1, Math.round((n * BATCH_MS * 1e6) / Math.max(ns, 1)));
    n *= 4;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function measure(candidates: [string, () => unknown][]): Map<string, number> {
  const sizes = candidates.map(([, fn]) => calibrate(fn)); // also the warm-up
  const samples = candidates.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order each round so no candidate always runs first.
    const order = candidates.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) samples[i]?.push(timeBatch((candidates[i] as [string, () => unknown])[1], sizes[i] as number));
  }
  return new Map(candidates.map(([name], i) => [name, median(samples[i] as number[])]));
}

function fmt(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

// --- run -----------------------------------------------------------------------

const wire = await loadWire();
const results: Record<string, unknown>[] = [];
const TARGET = 1.5;

console.log(`typed decode vs JSON.parse — node ${process.version}, median of ${ROUNDS} rounds`);
if (wire === undefined) console.log("(fromValueBinary not available yet: bytes → typed is not measured)");

for (const p of payloads) {
  const text = JSON.stringify(p.value);
  const value = JSON.parse(text) as unknown;
  const bytes = wire?.toValueBinary(p.value);
  // Check the candidates decode what they should before timing them.
  decode(p.schema, value);
  if (wire !== undefined && bytes !== undefined) decode(p.schema, wire.fromValueBinary(bytes));

  const candidates: [string, () => unknown][] = [
    ["JSON.parse", () => JSON.parse(text)],
    ["decode (value)", () => decode(p.schema, value)],
    ["JSON.parse + decode", () => decode(p.schema, JSON.parse(text))],
  ];
  if (wire !== undefined && bytes !== undefined) {
    const { fromValueBinary } = wire;
    candidates.push(["fromValueBinary", () => fromValueBinary(bytes)]);
    candidates.push(["fromValueBinary + decode", () => decode(p.schema, fromValueBinary(bytes))]);
  }
  const times = measure(candidates);
  const base = times.get("JSON.parse") as number;

  console.log(`\n${p.name}: ${text.length} bytes JSON${bytes ? `, ${bytes.length} bytes wire` : ""}`);
  const row: Record<string, unknown> = { payload: p.name, jsonBytes: text.length, wireBytes: bytes?.length ?? null };
  const ns: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  for (const [name, t0] of times) {
    const ratio = t0 / base;
    ns[name] = Math.round(t0);
    ratios[name] = Number(ratio.toFixed(3));
    const mark = name === "fromValueBinary + decode" ? (ratio <= TARGET ? "  (target ≤ 1.5x: met)" : "  (target ≤ 1.5x: MISSED)") : "";
    console.log(`  ${name.padEnd(26)} ${fmt(t0).padStart(10)}  ${ratio.toFixed(2)}x${mark}`);
  }
  // The regex, enum and range checks cost the same after either parser, so
  // also show the typed paths against each other: bytes → typed over text → typed.
  const typedText = times.get("JSON.parse + decode");
  const typedWire = times.get("fromValueBinary + decode");
  if (typedText !== undefined && typedWire !== undefined) {
    const same = typedWire / typedText;
    ratios["fromValueBinary + decode ÷ JSON.parse + decode"] = Number(same.toFixed(3));
    console.log(`  ${"(bytes → typed) ÷ (text → typed)".padEnd(37)} ${same.toFixed(2)}x`);
  }
  row["ns"] = ns;
  row["ratioToJsonParse"] = ratios;
  results.push(row);
}

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "schema.json"),
  `${JSON.stringify({ bench: "schema", node: process.version, date: new Date().toISOString(), rounds: ROUNDS, target: TARGET, wire: wire !== undefined, results }, null, 2)}\n`,
);
console.log(`\nwrote bench/results/schema.json (sink ${sink & 1})`);
