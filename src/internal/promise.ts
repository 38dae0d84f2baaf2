/**
 * Small promise helpers shared by every entry point.
 *
 * @internal
 * @module
 */

/**
 * Whether `value` is a thenable (a Promise or any object or function with a
 * `then` method), the way `await` and `Promise.resolve` decide.
 *
 * @internal
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
