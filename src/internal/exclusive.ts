/**
 * Serializes writes per data source: a write starts only after every earlier
 * write to the same data source has settled, also when `write` is async.
 *
 * The queue is keyed by the data source object and shared by every service in
 * the process, so two servers over one registry do not interleave either.
 * A synchronous `write` on an idle data source runs immediately, with no
 * promise involved.
 *
 * @internal
 * @module
 */

import { isThenable } from "./promise.js";

/**
 * Per data source, the tail of its queue. Kept on `globalThis` under a
 * registered symbol, so every bundle of this package in the process (the ESM
 * and CJS builds, each entry point) shares one queue per data source: a
 * write through `tracee-ds/grpc` waits for a read by `tracee-ds/engine`.
 */
const TAILS = Symbol.for("tracee-ds.exclusive.tails");
const tails: WeakMap<object, Promise<void>> = ((globalThis as Record<symbol, unknown>)[TAILS] ??= new WeakMap()) as WeakMap<
  object,
  Promise<void>
>;

const noop = (): void => {};

function track(key: object, run: Promise<void>): Promise<void> {
  const settled = run.then(noop, noop);
  tails.set(key, settled);
  void settled.then(() => {
    if (tails.get(key) === settled) tails.delete(key);
  });
  return run;
}

/**
 * Runs `task` once every earlier task for `key` has settled.
 *
 * Returns `undefined` when `task` ran synchronously and completed (or throws
 * what it threw); otherwise a promise of its completion.
 *
 * @internal
 */
export function runExclusive(key: object, task: () => unknown): Promise<void> | undefined {
  const tail = tails.get(key);
  if (tail === undefined) {
    const result = task();
    if (!isThenable(result)) return undefined;
    return track(key, Promise.resolve(result).then(noop));
  }
  return track(
    key,
    tail.then(async () => {
      await task();
    }),
  );
}

/**
 * Makes later tasks for `key` wait until `work` settles, as if it were a task
 * itself: a detector's async `onEvent` holds the data sources it reads, so a
 * write cannot land in the middle of it.
 *
 * @internal
 */
export function hold(key: object, work: Promise<unknown>): void {
  const tail = tails.get(key);
  const held = work.then(noop, noop);
  track(key, tail === undefined ? held : Promise.all([tail, held]).then(noop));
}

/** A promise of the moment nothing runs or waits for `key`, or `undefined` when that is now. @internal */
export function whenIdle(key: object): Promise<void> | undefined {
  return tails.get(key);
}
