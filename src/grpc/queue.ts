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

import { isThenable } from "../internal/promise.js";

const tails = new WeakMap<object, Promise<void>>();

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
