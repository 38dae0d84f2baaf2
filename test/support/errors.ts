/**
 * Catching what a function throws, for assertions on the error itself.
 */
import { type DataStoreError, ErrInvalidArgument, errorIs, isDataStoreError } from "tracee-ds";
import { expect } from "vitest";

/** What `fn` throws; fails the test when it returns instead. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

/**
 * The message of the `INVALID_ARGUMENT` datastore error `fn` throws; fails
 * the test when it throws anything else, or nothing.
 */
export function invalidArgumentMessage(fn: () => unknown): string {
  const err = thrown(fn);
  expect(isDataStoreError(err), `not a DataStoreError: ${String(err)}`).toBe(true);
  expect((err as DataStoreError).code).toBe("INVALID_ARGUMENT");
  expect(errorIs(err, ErrInvalidArgument)).toBe(true);
  return err.message;
}
