/**
 * What the engine counts as it runs. The engine reports to an
 * {@link EngineMetrics}; `prometheusMetrics()` (in prometheus.ts) keeps them
 * as Prometheus metrics, and the engine's own `stats()` keeps plain counts.
 *
 * @module
 */

/** Where the engine reports what happens. Every method is optional work: keep them cheap. */
export interface EngineMetrics {
  /** A participant received an event (its filters passed). */
  eventProcessed(id: string): void;
  /** A participant produced `count` output events. */
  outputsProduced(id: string, count: number): void;
  /** A participant threw or rejected. */
  error(id: string): void;
  /** A participant's async `onEvent` did not settle in time. */
  timeout(id: string): void;
  /** An event was dropped for a participant whose queue was full. */
  dropped(id: string): void;
  /** How long one `onEvent` took, in seconds. */
  duration(id: string, seconds: number): void;
  /** Outputs past the chain depth limit were dropped. */
  chainDepthExceeded(count: number): void;
}

/** Per participant, what {@link EngineStats} counts. */
export interface ParticipantStats {
  readonly processed: number;
  readonly produced: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly dropped: number;
}

/** A snapshot of what an engine counted. */
export interface EngineStats {
  /** Input events handled. */
  readonly events: number;
  /** Events written to the outputs (inputs with `outputAll`, and detections). */
  readonly written: number;
  readonly chainDepthExceeded: number;
  readonly participants: Readonly<Record<string, ParticipantStats>>;
}

type MutableStats = { -readonly [K in keyof ParticipantStats]: number };

/** The engine's own counts, also forwarded to an optional {@link EngineMetrics}. @internal */
export class StatsCollector implements EngineMetrics {
  events = 0;
  written = 0;
  depthExceeded = 0;
  readonly #participants = new Map<string, MutableStats>();

  constructor(readonly forward: EngineMetrics | undefined) {}

  #of(id: string): MutableStats {
    let s = this.#participants.get(id);
    if (s === undefined) {
      s = { processed: 0, produced: 0, errors: 0, timeouts: 0, dropped: 0 };
      this.#participants.set(id, s);
    }
    return s;
  }

  eventProcessed(id: string): void {
    this.#of(id).processed++;
    this.forward?.eventProcessed(id);
  }
  outputsProduced(id: string, count: number): void {
    this.#of(id).produced += count;
    this.forward?.outputsProduced(id, count);
  }
  error(id: string): void {
    this.#of(id).errors++;
    this.forward?.error(id);
  }
  timeout(id: string): void {
    this.#of(id).timeouts++;
    this.forward?.timeout(id);
  }
  dropped(id: string): void {
    this.#of(id).dropped++;
    this.forward?.dropped(id);
  }
  duration(id: string, seconds: number): void {
    this.forward?.duration(id, seconds);
  }
  chainDepthExceeded(count: number): void {
    this.depthExceeded += count;
    this.forward?.chainDepthExceeded(count);
  }

  snapshot(): EngineStats {
    const participants: Record<string, ParticipantStats> = {};
    for (const [id, s] of this.#participants) participants[id] = { ...s };
    return { events: this.events, written: this.written, chainDepthExceeded: this.depthExceeded, participants };
  }
}
