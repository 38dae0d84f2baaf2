/**
 * The engine's registration error.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for("tracee-ds.EngineRegistrationError");

/** A detector or signature the engine cannot run, naming it and why. */
export class EngineRegistrationError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** The detector's (or signature's) id. */
    readonly id: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${id}: ${reason}`, options);
    this.name = "EngineRegistrationError";
  }
}

/** Whether `value` is an {@link EngineRegistrationError} from any copy of this package. */
export function isEngineRegistrationError(value: unknown): value is EngineRegistrationError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}
