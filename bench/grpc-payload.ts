/**
 * Payloads shared by the gRPC bench processes: an IOC-like record (the same
 * shape as the codec bench's 206-byte record) under distinct keys.
 *
 * @internal
 */
import type { JsonValue } from "type-fest";

export const NAMESPACE = "bench";
export const SINK_ID = "sink";
export const MEMORY_ID = "memory";

/** 64 pseudo-random hex digits from `seed`, like a sha256 (shared with the codec bench). */
export const hex = (seed: number): string => {
  let s = "";
  let x = seed * 2654435761;
  for (let i = 0; i < 64; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += (x >>> 16).toString(16).slice(-1);
  }
  return s;
};

/** An IOC-like record, distinct per `i`. */
export const ioc = (i: number): JsonValue => ({
  sha256: hex(i + 1),
  domain: `cdn-${i % 97}.update-check.example.net`,
  ip: `203.0.${i % 256}.${(i * 7) % 256}`,
  severity: (i % 10) + 1,
  confidence: 0.75,
  tags: ["c2", "linux"],
  first_seen: "2024-05-01T12:00:00Z",
  active: true,
});

export const key = (i: number): string => `ioc-${String(i).padStart(7, "0")}`;
