/**
 * What the engine dispatches to: a detector, or a legacy signature through
 * its adapter. Both turn an input event into output events.
 *
 * @module
 */
import type { TraceeEvent } from "../events/model.js";

/** Where a participant reports output events it produces outside `handle` (a legacy signature's late finding). @internal */
export type Emit = (events: readonly TraceeEvent[]) => void;

/** @internal */
export interface Participant {
  /** The detector's id (`"TRC-102"`) or the signature's. */
  readonly id: string;
  /** `"detector"` or `"signature"`, for logs and `--list`. */
  readonly kind: "detector" | "signature";
  /** Names of the events it receives; `"*"` for every event (a legacy selector with name `*`). */
  readonly eventNames: readonly string[] | "*";
  /** Names of the events it may produce. */
  readonly produces: readonly string[];
  /** Called once before any event; may reject (the registration then fails). `emit` takes late outputs. */
  init(emit: Emit): Promise<void>;
  /**
   * The outputs for `event`, as full events, or `undefined` when the
   * participant's filters (or origin) leave the event out. Sync when it can be.
   */
  handle(event: TraceeEvent): readonly TraceeEvent[] | undefined | Promise<readonly TraceeEvent[] | undefined>;
  /** The input ended: a legacy signature gets `onSignal(source complete)`. */
  end?(): void | Promise<void>;
  close(): Promise<void>;
  /** Hot reload: the state to hand to the participant replacing this one (same id). */
  readonly snapshot?: (() => unknown) | undefined;
  /** Hot reload: takes the state of the participant this one replaces, after `init`. */
  readonly restore?: ((state: unknown) => void) | undefined;
}
