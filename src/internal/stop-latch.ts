/**
 * {@link StopLatch}: waits that end early once something stops, without
 * racing one long-lived promise.
 *
 * `await Promise.race([next(), stopped])` in a loop leaves a reaction on
 * `stopped` for every turn, each holding the promise race made and what it
 * resolved with, until `stopped` settles: a loop over a long input keeps
 * every value it read. The latch instead keeps one wake-up, that of the
 * current wait, and drops it when that wait ends.
 *
 * @module
 */

/** What {@link StopLatch.until} resolves with when the latch stopped first. */
export const STOPPED: unique symbol = Symbol("stopped");

/** A one-way switch that ends the current {@link StopLatch.until} wait when thrown. */
export class StopLatch {
  #stopped = false;
  /** Ends the current wait with {@link STOPPED}; only while one is pending. */
  #wake: (() => void) | undefined;

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops: the pending wait, and every later one, resolves with {@link STOPPED}. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Settles as `promise` does, or resolves with {@link STOPPED} once the latch
   * stops first (at once if it already has). One wait at a time: a new wait
   * takes the wake-up over from an earlier one still pending. A rejection of
   * `promise` after the latch stopped is handled (dropped).
   */
  until<T>(promise: PromiseLike<T>): Promise<T | typeof STOPPED> {
    if (this.#stopped) {
      promise.then(undefined, () => {});
      return Promise.resolve(STOPPED);
    }
    return new Promise<T | typeof STOPPED>((resolve, reject) => {
      const wake = () => resolve(STOPPED);
      this.#wake = wake;
      const done = () => {
        if (this.#wake === wake) this.#wake = undefined;
      };
      promise.then(
        (value) => {
          done();
          resolve(value);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }
}
