/**
 * Tracee's task hash: how it names a process or thread (its "entity id",
 * `unique_id` in events). Ported from `common/murmur` and
 * `pkg/datastores/process/taskid.go`.
 *
 * @module
 */

const SEED = 0x18273645; // Tracee's seed, the same as its eBPF code's
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3 x86 32-bit with Tracee's seed. Go: `murmur.Murmur32`.
 *
 * Blocks are read little-endian, as Go's `unsafe` read does on the
 * little-endian machines Tracee runs on.
 */
export function murmur32(data: Uint8Array): number {
  const n = data.length;
  const blocks = n & ~3;
  let h = SEED;
  for (let i = 0; i < blocks; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest !== 0) {
    let k = 0;
    if (rest === 3) k ^= (data[blocks + 2] as number) << 16;
    if (rest >= 2) k ^= (data[blocks + 1] as number) << 8;
    k ^= data[blocks] as number;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const buffer = new Uint8Array(12);
const view = new DataView(buffer.buffer);
const U64 = (1n << 64n) - 1n;

/**
 * {@link murmur32} of a u32 and a u64 in network byte order. Go: `murmur.HashU32AndU64`.
 */
export function hashU32AndU64(a: number, b: bigint): number {
  view.setUint32(0, a >>> 0, false);
  view.setBigUint64(4, b & U64, false);
  return murmur32(buffer);
}

/**
 * The entity id Tracee gives a task: the hash of its host thread id and its
 * start time (nanoseconds since the epoch, rounded down to 100 ms as procfs
 * readings are). Go: `process.HashTaskID`.
 *
 * A process's entity id is its thread group leader's: `hashTaskId(hostPid, processStartTime)`.
 *
 * @example
 * ```ts
 * const child = hashTaskId(leaderTid, leaderStartTime); // a sched_process_fork's new process
 * ```
 */
export function hashTaskId(hostTid: number, startTimeNs: bigint): number {
  const round = (startTimeNs / 100_000_000n) * 100_000_000n;
  return hashU32AndU64(hostTid, round);
}
