import type { Event, SignatureEventSelector } from "../detect/signature.js";

/** Options for {@link traceeEvent}. */
export interface TraceeEventOptions {
  /** Where the event came from: `"host"` (the default), `"container"`, … */
  readonly origin?: string;
  /** The event source; defaults to `"tracee"`. */
  readonly source?: string;
}

/**
 * Builds the event Tracee would deliver for `payload`: its headers carry the
 * selector `{ source, name, origin }` the engine matches signatures against.
 *
 * @example
 * ```ts
 * const open = traceeEvent("security_file_open", { hostProcessId: 42, processName: "cat" });
 * const inContainer = traceeEvent("sched_process_exit", { hostProcessId: 42 }, { origin: "container" });
 * ```
 */
export function traceeEvent<Payload>(name: string, payload: Payload, options: TraceeEventOptions = {}): Event<Payload> {
  return {
    headers: { selector: { source: options.source ?? "tracee", name, origin: options.origin ?? "host" } },
    payload,
  };
}

/** Tracee's wildcard for a selector's name or origin. */
const ALL = "*";

/**
 * Whether Tracee's engine would deliver `event` to a signature that selected
 * `selectors`.
 *
 * A selector matches when its `source` equals the event's, its `name` equals
 * the event's or is `"*"`, and its `origin` equals the event's or is `"*"`.
 * An empty or missing name or origin counts as `"*"`, as in Tracee; a
 * selector with an empty source matches nothing (Tracee ignores it).
 *
 * @example
 * ```ts
 * selectorsMatch([{ source: "tracee", name: "security_file_open", origin: "*" }], event); // true
 * ```
 */
export function selectorsMatch(selectors: readonly SignatureEventSelector[], event: Event): boolean {
  const { source, name, origin } = event.headers.selector;
  return selectors.some((s) => {
    if (s.source === "" || s.source !== source) return false;
    const selName = s.name === "" ? ALL : s.name;
    const selOrigin = s.origin === undefined || s.origin === "" ? ALL : s.origin;
    return (selName === ALL || selName === name) && (selOrigin === ALL || selOrigin === origin);
  });
}
