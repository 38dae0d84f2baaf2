/**
 * Catching what a function throws, for assertions on the error itself.
 */

/** What `fn` throws; fails the test when it returns instead. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}
