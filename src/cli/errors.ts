/** Exit codes of the `tracee-ds` command. */
export const EXIT_OK = 0;
/** A server refused, or could not be reached. */
export const EXIT_REFUSED = 1;
/** The command line or its input was wrong; nothing was sent. */
export const EXIT_USAGE = 2;

/** A mistake in the command line or its input: printed with a hint, exit 2. @internal */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}
