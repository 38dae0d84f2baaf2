import type { DataSource, DataSourceRef } from "./data-source.js";

/** Which events a signature wants. Go: `detect.SignatureEventSelector`. `"*"` matches any name or origin. */
export interface SignatureEventSelector {
  /** The event source, `"tracee"` for Tracee's events. */
  readonly source: string;
  /** The event name, or `"*"`. */
  readonly name: string;
  /** Where the event came from (`"host"`, `"container"`, …), or `"*"`. */
  readonly origin?: string;
}

/** Describes a signature. Go: `detect.SignatureMetadata`. */
export interface SignatureMetadata {
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly eventName: string;
  readonly description: string;
  readonly tags?: readonly string[];
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** The selector an event carries in its headers. Go: `protocol.Selector`. */
export interface EventSelector {
  readonly name: string;
  readonly origin: string;
  readonly source: string;
}

/**
 * An event delivered to a signature. Go: `protocol.Event`.
 *
 * @typeParam Payload - the event's body; for Tracee's own events, its
 *   `trace.Event` as JSON.
 */
export interface Event<Payload = unknown> {
  readonly headers: { readonly selector: EventSelector };
  readonly payload: Payload;
}

/** Something the engine tells signatures besides events. Go: `detect.Signal` (`any`). */
export type Signal = unknown;

/**
 * What a signature's `onSignal` receives when an input source ends. Go:
 * `detect.SignalSourceComplete`, a named string type holding the source
 * (`SignalSourceComplete("tracee")`); Go signatures test it with a type
 * assertion (`s, ok := signal.(detect.SignalSourceComplete); ok && s == "tracee"`),
 * which a plain string cannot carry in TypeScript, so it is this object.
 *
 * @example
 * ```ts
 * onSignal(signal: Signal) {
 *   if (isSignalSourceComplete(signal) && signal.source === "tracee") this.flush();
 * }
 * ```
 */
export interface SignalSourceComplete {
  readonly type: "source-complete";
  /** The source that ended: `"tracee"` for Tracee's events. */
  readonly source: string;
}

/** The signal for `source` having ended (frozen). Go: `detect.SignalSourceComplete(source)`. */
export function signalSourceComplete(source: string): SignalSourceComplete {
  return Object.freeze({ type: "source-complete", source });
}

/** Whether `signal` is a {@link SignalSourceComplete}. */
export function isSignalSourceComplete(signal: Signal): signal is SignalSourceComplete {
  return (
    typeof signal === "object" &&
    signal !== null &&
    (signal as { type?: unknown }).type === "source-complete" &&
    typeof (signal as { source?: unknown }).source === "string"
  );
}

/** The signal the engine sends when its input ends: `{ type: "source-complete", source: "tracee" }`. */
export const SOURCE_COMPLETE_TRACEE: SignalSourceComplete = signalSourceComplete("tracee");

/** What a signature reports. Go: `detect.Finding`. */
export interface Finding<Payload = unknown> {
  /** Facts about the finding. Go: `Data map[string]any`. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The event that caused it. */
  readonly event: Event<Payload>;
  /** The reporting signature's metadata. Go: `SigMetadata`. */
  readonly sigMetadata: SignatureMetadata;
}

/**
 * Where signatures log. Go: `detect.Logger` (`Debugw`, `Infow`, …).
 *
 * Arguments after the message are Go-style key/value pairs; `console`
 * satisfies this interface.
 */
export interface Logger {
  debug(msg: string, ...keyvals: unknown[]): void;
  info(msg: string, ...keyvals: unknown[]): void;
  warn(msg: string, ...keyvals: unknown[]): void;
  error(msg: string, ...keyvals: unknown[]): void;
}

/** Looks a data source up by namespace and id, or by a typed {@link DataSourceRef}. */
export interface GetDataSource {
  (namespace: string, id: string): DataSource | undefined;
  <D extends DataSource>(ref: DataSourceRef<D>): D | undefined;
}

/**
 * What a signature receives in `init`. Go: `detect.SignatureContext`.
 *
 * Its members are plain functions, so destructuring them is safe.
 */
export interface SignatureContext {
  /** Reports a finding. Go: `Callback`. */
  readonly callback: (finding: Finding) => void;
  readonly logger: Logger;
  /**
   * The data source registered under `namespace`/`id`, or `undefined`.
   * Go: `GetDataSource(namespace, id) (DataSource, bool)`.
   */
  readonly getDataSource: GetDataSource;
}

/**
 * A detection signature. Go: `detect.Signature`.
 *
 * Go's `error` results become thrown errors; `init`, `onEvent` and `onSignal`
 * may return a Promise.
 */
export interface Signature<Payload = unknown> {
  getMetadata(): SignatureMetadata;
  getSelectedEvents(): readonly SignatureEventSelector[];
  init(ctx: SignatureContext): void | Promise<void>;
  onEvent(event: Event<Payload>): void | Promise<void>;
  onSignal(signal: Signal): void | Promise<void>;
  close(): void;
}
