/**
 * Datastores bench, the entries: IP reputations made on demand, entry `i`
 * always the same, so every run of the bench sends the same data.
 *
 * Entry `i` rates the IPv4 address `10.0.0.0 + i` (distinct for `i` below
 * 2^24), with a status, a severity 1-10 and 0-3 tags taken from a hash of
 * `i`, a `lastUpdated` of 2026-01-01 plus `i` seconds, and, for one entry in
 * four, a `feed` metadata value.
 *
 * @internal
 */
import type { IPReputation, StoreEntry } from "../src/index.js";

const STATUSES: readonly IPReputation["status"][] = ["unknown", "allow", "deny", "suspicious"];
const TAGS = ["botnet", "c2", "scanner", "spam", "tor-exit", "proxy", "phishing", "malware"];
const FEEDS = ["abuse-db", "spamhaus-drop", "internal-honeypot"];
const BASE_TIME = Date.UTC(2026, 0, 1);
/** The highest entry count with distinct addresses. */
export const MAX_ENTRIES = 1 << 24;

/** A cheap integer hash (murmur3's finaliser), so neighbouring entries differ. */
function mix(i: number): number {
  let h = Math.imul(i ^ (i >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The address of entry `i`: `10.0.0.0 + i`. */
export function ipOf(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** Entry `i`. */
export function reputationOf(i: number): StoreEntry<string, IPReputation> {
  const h = mix(i);
  const tagCount = (h >>> 8) % 4;
  const tags: string[] = [];
  for (let t = 0; t < tagCount; t++) tags.push(TAGS[((h >>> (12 + 3 * t)) + t) % TAGS.length] as string);
  return {
    key: ipOf(i),
    data: {
      status: STATUSES[h & 3] as IPReputation["status"],
      severity: 1 + ((h >>> 2) % 10),
      tags,
      lastUpdated: new Date(BASE_TIME + i * 1000),
      metadata: (h >>> 24) % 4 === 0 ? { feed: FEEDS[(h >>> 26) % FEEDS.length] as string } : {},
    },
  };
}

/** Entries `first` to `first + count - 1`, made one at a time as they are read. */
export function* reputations(first: number, count: number): Generator<StoreEntry<string, IPReputation>> {
  if (first < 0 || first + count > MAX_ENTRIES) throw new RangeError(`entries ${first}-${first + count - 1} are out of range`);
  for (let i = first; i < first + count; i++) yield reputationOf(i);
}
