/**
 * A detector as the engine runs it: its filters compiled, its `ctx.get`
 * bound to its declared fields, and its outputs turned into events by
 * Tracee's rules (`buildEventFromOutput` and `autoPopulateFieldsFromOutput`
 * in Tracee's pkg/detectors/dispatch.go).
 *
 * @module
 */
import { getData } from "../events/data.js";
import type { DetectedFrom, EventValueKind, Process, Threat, TraceeEvent } from "../events/model.js";
import type { EventFilter } from "./filters.js";
import type { Participant } from "./participant.js";
import type {
  AncestorInfo,
  AutoPopulate,
  Detector,
  DetectorDefinition,
  DetectorOutput,
  DetectorParams,
  EventRequirement,
  OnEventContext,
} from "./types.js";

const NONE: readonly TraceeEvent[] = Object.freeze([]);


/** What a detector participant needs from the engine. @internal */
export interface DetectorHost {
  /** The id the produced event gets (Tracee assigns 7500 and up). */
  readonly eventId: number;
  readonly compileFilters: (requirement: EventRequirement) => EventFilter | undefined;
  readonly params: DetectorParams;
  /** The process and its ancestors, up to `depth` levels (the process first), when a process tree is known. */
  readonly ancestry?: (entityId: number, depth: number) => readonly AncestorInfo[] | undefined;
}

/** Ancestry levels `processAncestry: true` fills, as Tracee does. */
const DEFAULT_ANCESTRY_DEPTH = 5;

function cloneThreat(t: Threat): Threat {
  return {
    description: t.description,
    mitre:
      t.mitre === undefined
        ? undefined
        : {
            tactic: t.mitre.tactic === undefined ? undefined : { name: t.mitre.tactic.name },
            technique: t.mitre.technique === undefined ? undefined : { id: t.mitre.technique.id, name: t.mitre.technique.name },
          },
    severity: t.severity,
    name: t.name,
    properties: { ...t.properties },
  };
}

/**
 * `ctx` of one `onEvent` call: reads the event's declared fields, also after
 * an `await` in an async `onEvent`.
 */
class EventContext implements OnEventContext<DetectorDefinition> {
  constructor(
    readonly event: TraceeEvent,
    readonly fields: Readonly<Record<string, EventValueKind>>,
  ) {}

  get(field: string): never {
    const kind = this.fields[field];
    return (kind === undefined ? undefined : getData(this.event, field, kind)) as never;
  }
}

/** Per event name: the filter to pass (or none) and the declared field kinds. */
interface Subscription {
  readonly filter: EventFilter | undefined;
  readonly fields: Readonly<Record<string, EventValueKind>>;
}

/** @internal */
export class DetectorParticipant implements Participant {
  readonly kind = "detector";
  readonly id: string;
  readonly eventNames: readonly string[];
  readonly produces: readonly string[];
  readonly #detector: Detector;
  readonly #definition: DetectorDefinition;
  readonly #host: DetectorHost;
  readonly #subscriptions: ReadonlyMap<string, Subscription>;

  /** Throws a `TypeError` naming the detector for a definition the engine cannot run. */
  constructor(detector: Detector, host: DetectorHost, eventNames: readonly string[]) {
    this.#detector = detector;
    this.#definition = detector.definition;
    this.#host = host;
    this.id = detector.definition.id;
    this.produces = [detector.definition.producedEvent.name];
    this.eventNames = eventNames;
    const subscriptions = new Map<string, Subscription>();
    for (const requirement of detector.definition.requirements.events) {
      if (!eventNames.includes(requirement.name)) continue;
      subscriptions.set(requirement.name, {
        filter: host.compileFilters(requirement),
        fields: requirement.fields ?? {},
      });
    }
    this.#subscriptions = subscriptions;
  }

  async init(): Promise<void> {
    await this.#detector.init?.(this.#host.params);
  }

  handle(event: TraceeEvent): readonly TraceeEvent[] | undefined | Promise<readonly TraceeEvent[] | undefined> {
    const subscription = this.#subscriptions.get(event.name);
    if (subscription === undefined) return undefined;
    if (subscription.filter !== undefined && !subscription.filter(event)) return undefined;
    const result = this.#detector.onEvent(event as never, new EventContext(event, subscription.fields));
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      return (result as Promise<readonly DetectorOutput[] | undefined | void>).then((outputs) => this.#build(outputs, event));
    }
    return this.#build(result as readonly DetectorOutput[] | undefined | void, event);
  }

  #build(outputs: readonly DetectorOutput[] | undefined | void, input: TraceeEvent): readonly TraceeEvent[] {
    // Processed with nothing to report is `[]`; `undefined` means "filtered out".
    if (outputs === undefined || outputs === null || outputs.length === 0) return NONE;
    if (!Array.isArray(outputs)) throw new TypeError(`detector ${this.id}: onEvent must return an array of outputs, got ${typeof outputs}`);
    return outputs.map((output: DetectorOutput) => this.#event(output, input));
  }

  /** Tracee's buildEventFromOutput: the produced event, from the output and its input. */
  #event(output: DetectorOutput, input: TraceeEvent): TraceeEvent {
    const definition = this.#definition;
    const autoPopulate: AutoPopulate = output.autoPopulate ?? definition.autoPopulate ?? {};
    let detectedFrom: DetectedFrom | undefined;
    if (autoPopulate.detectedFrom === true) {
      detectedFrom = { id: input.id, name: input.name, data: [...input.data], parent: input.detectedFrom };
    }
    const threat =
      output.threat !== undefined
        ? cloneThreat(output.threat)
        : autoPopulate.threat === true && definition.threat !== undefined
          ? cloneThreat(definition.threat)
          : undefined;
    return {
      timestamp: input.timestamp,
      id: this.#host.eventId,
      name: definition.producedEvent.name,
      policies: input.policies === undefined ? undefined : { matched: [...input.policies.matched] },
      workload: this.#workload(output, input, autoPopulate),
      data: output.data === undefined ? [] : [...output.data],
      threat,
      detectedFrom,
    };
  }

  /** The input's workload, with the process's ancestors filled when asked and known. */
  #workload(output: DetectorOutput, input: TraceeEvent, autoPopulate: AutoPopulate): TraceeEvent["workload"] {
    const workload = input.workload;
    const depth = output.ancestryDepth ?? (autoPopulate.processAncestry === true ? DEFAULT_ANCESTRY_DEPTH : 0);
    const process = workload?.process;
    if (depth <= 0 || workload === undefined || process === undefined || process.ancestors.length > 0) return workload;
    const entityId = process.uniqueId ?? 0;
    if (entityId === 0 || this.#host.ancestry === undefined) return workload;
    const ancestry = this.#host.ancestry(entityId, depth);
    if (ancestry === undefined || ancestry.length <= 1) return workload;
    const ancestors: Process[] = ancestry.slice(1).map((a) => ({
      executable: a.exe === "" ? undefined : { path: a.exe },
      uniqueId: a.uniqueId,
      hostPid: a.hostPid,
      pid: a.pid,
      realUser: undefined,
      thread:
        a.name === ""
          ? undefined
          : { startTime: undefined, name: a.name, uniqueId: undefined, hostTid: undefined, tid: undefined, syscall: "", compat: false, userStackTrace: undefined },
      ancestors: [],
    }));
    return { ...workload, process: { ...process, ancestors } };
  }

  async close(): Promise<void> {
    await this.#detector.close?.();
  }

  get snapshot(): (() => unknown) | undefined {
    const detector = this.#detector;
    return detector.snapshot === undefined ? undefined : () => detector.snapshot?.();
  }

  get restore(): ((state: unknown) => void) | undefined {
    const detector = this.#detector;
    return detector.restore === undefined ? undefined : (state: unknown) => detector.restore?.(state);
  }
}
