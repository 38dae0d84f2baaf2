/**
 * Registration: what the engine knows of a detector or signature before it
 * runs (a plan), the checks a whole set must pass, and building the set's
 * participants once it does (Tracee validates its detectors the same way
 * when it starts: unknown events and missing data stores fail, optional ones
 * are skipped with a log line).
 *
 * @module
 */
import type { DataSource } from "../detect/data-source.js";
import type { Logger, Signature } from "../detect/signature.js";
import { EventId } from "../gen/tracee/v1beta1/event.js";
import { createDetectorConfig } from "./config.js";
import { DetectorParticipant } from "./detector-participant.js";
import type { EventFilter } from "./filters.js";
import { EngineRegistrationError } from "./errors.js";
import type { Participant } from "./participant.js";
import { adaptSignature, signatureEventIds } from "./signature-adapter.js";
import type { AncestorInfo, Detector, DetectorDataStores, DetectorLogger, EventRequirement, GetDataSourceFn } from "./types.js";

/** Tracee gives detector-produced events ids from 7500, in registration order. */
const FIRST_DETECTOR_EVENT_ID = 7500;
const KNOWN_EVENTS: ReadonlySet<string> = new Set(Object.keys(EventId).filter((k) => Number.isNaN(Number(k))));

/** Whether `name` is one of Tracee's own events. @internal */
export const isTraceeEvent = (name: string): boolean => KNOWN_EVENTS.has(name);

/** What building a participant needs from the engine. @internal */
export interface BuildHost {
  readonly logger: Logger;
  readonly compileFilters: (requirement: EventRequirement) => EventFilter | undefined;
  /** A lookup that remembers, for `participant()`, what it handed out. */
  readonly lookup: (participant: () => Participant) => GetDataSourceFn;
  readonly ancestry: (entityId: number, depth: number) => readonly AncestorInfo[] | undefined;
  readonly hasDataSource: (namespace: string, id: string) => boolean;
  readonly getDataSource: (namespace: string, id: string) => DataSource | undefined;
  /** The `params.dataStores` of the detector `id`. */
  readonly dataStores: (id: string) => DetectorDataStores;
}

/** A registered detector or signature, not yet built. @internal */
export interface Plan {
  readonly id: string;
  readonly kind: "detector" | "signature";
  /** Event names received, for `list()` (`"*"`: every event). */
  readonly events: readonly string[] | "*";
  readonly produces: readonly string[];
  readonly requires: readonly { readonly name: string; readonly optional: boolean }[];
  readonly dataSources: readonly { readonly namespace: string; readonly id: string; readonly optional: boolean }[];
  /** Datastores it declares, by name. */
  readonly dataStores: readonly StorePlan[];
  /** The detector or signature itself, so a set can tell a reload from a change. */
  readonly source: Detector | Signature;
  readonly config?: Readonly<Record<string, unknown>>;
}

/** One declared datastore. @internal */
export interface StorePlan {
  readonly name: string;
  readonly optional: boolean;
}

/** The declared datastores of a definition, checked for shape. */
function planStores(id: string, stores: unknown): StorePlan[] {
  if (stores === undefined) return [];
  if (!Array.isArray(stores)) throw new EngineRegistrationError(id, "definition.requirements.dataStores must be an array");
  const plans: StorePlan[] = [];
  for (const requirement of stores as unknown[]) {
    const name = (requirement as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name === "") throw new EngineRegistrationError(id, "every required datastore needs a name");
    const dependency = (requirement as { dependency?: unknown }).dependency;
    if (dependency !== undefined && dependency !== "required" && dependency !== "optional") {
      throw new EngineRegistrationError(id, `datastore "${name}": dependency must be "required" or "optional", got ${JSON.stringify(dependency)}`);
    }
    if (plans.some((p) => p.name === name)) throw new EngineRegistrationError(id, `datastore "${name}" is required twice`);
    plans.push({ name, optional: dependency === "optional" });
  }
  return plans;
}

/** Checks what can be checked of a detector alone: its shape, id, produced event, filter syntax. @internal */
export function planDetector(
  detector: Detector,
  config: Readonly<Record<string, unknown>> | undefined,
  compileFilters: BuildHost["compileFilters"],
): Plan {
  const definition = (detector as Partial<Detector> | undefined)?.definition;
  const id = typeof definition?.id === "string" && definition.id !== "" ? definition.id : "(no id)";
  if (definition === undefined || typeof detector.onEvent !== "function") {
    throw new EngineRegistrationError(id, "a detector needs a definition and an onEvent function");
  }
  if (id === "(no id)") throw new EngineRegistrationError(id, "definition.id must be a non-empty string");
  const produced = definition.producedEvent?.name;
  if (typeof produced !== "string" || produced === "") {
    throw new EngineRegistrationError(id, "definition.producedEvent.name is missing");
  }
  const events = definition.requirements?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new EngineRegistrationError(id, "definition.requirements.events must list at least one event");
  }
  for (const requirement of events) {
    if (typeof requirement?.name !== "string" || requirement.name === "") {
      throw new EngineRegistrationError(id, "every required event needs a name");
    }
    try {
      compileFilters(requirement);
    } catch (err) {
      throw new EngineRegistrationError(id, `event "${requirement.name}": ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    id,
    kind: "detector",
    events: events.map((r) => r.name),
    produces: [produced],
    requires: events.map((r) => ({ name: r.name, optional: r.dependency === "optional" })),
    dataSources: (definition.requirements.dataSources ?? []).map((d) => ({
      namespace: d.namespace,
      id: d.id,
      optional: d.dependency === "optional",
    })),
    dataStores: planStores(id, definition.requirements.dataStores),
    source: detector,
    ...(config === undefined ? {} : { config }),
  };
}

/** A legacy signature's plan: its metadata and selectors. @internal */
export function planSignature(signature: Signature): Plan {
  let metadata;
  let selectors;
  try {
    metadata = signature.getMetadata();
    selectors = signature.getSelectedEvents();
  } catch (err) {
    throw new EngineRegistrationError("(signature)", `getMetadata or getSelectedEvents failed: ${(err as Error).message}`, { cause: err });
  }
  const id = typeof metadata?.id === "string" && metadata.id !== "" ? metadata.id : "(no id)";
  if (id === "(no id)") throw new EngineRegistrationError(id, "a signature's metadata needs a non-empty id");
  if (typeof metadata.eventName !== "string" || metadata.eventName === "") {
    throw new EngineRegistrationError(id, "a signature's metadata needs an eventName (the event its findings become)");
  }
  const names = selectors.map((s) => s.name ?? "");
  return {
    id,
    kind: "signature",
    events: names.some((n) => n === "" || n === "*") ? "*" : [...new Set(names)],
    produces: [metadata.eventName],
    requires: [],
    dataSources: [],
    dataStores: [],
    source: signature,
  };
}

/** Checks a plan against the others of its set: unique ids and produced events. @internal */
export function checkAgainst(plans: readonly Plan[], plan: Plan): void {
  if (plans.some((p) => p.id === plan.id)) throw new EngineRegistrationError(plan.id, "another detector or signature has this id");
  for (const name of plan.produces) {
    if (plan.kind === "detector" && isTraceeEvent(name)) {
      throw new EngineRegistrationError(plan.id, `"${name}" is one of Tracee's own events; a detector must produce a new one`);
    }
    const other = plans.find((p) => p.produces.includes(name));
    if (other !== undefined) throw new EngineRegistrationError(plan.id, `${other.id} already produces the event "${name}"`);
  }
}

export function detectorLogger(logger: Logger, id: string): DetectorLogger {
  const at = (level: keyof Logger) => (msg: string, ...keyvals: unknown[]) => logger[level](msg, "detector", id, ...keyvals);
  return {
    debugw: at("debug"),
    infow: at("info"),
    warnw: at("warn"),
    errorw: at("error"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** A built participant, the data sources it declared, and its plan. @internal */
export interface Built {
  readonly participant: Participant;
  readonly declared: readonly DataSource[];
  readonly plan: Plan;
}

/**
 * Checks every requirement against the whole set, then builds the
 * participants in order. Throws an {@link EngineRegistrationError}.
 *
 * @internal
 */
export function buildAll(plans: readonly Plan[], host: BuildHost): Built[] {
  const available = new Set<string>([...KNOWN_EVENTS, ...plans.flatMap((p) => p.produces)]);
  const signatureIds = signatureEventIds(plans.filter((p) => p.kind === "signature").map((p) => p.source as Signature));
  let detectorIndex = 0;
  const built: Built[] = [];
  for (const plan of plans) {
    for (const requirement of plan.requires) {
      if (available.has(requirement.name)) continue;
      if (!requirement.optional) {
        throw new EngineRegistrationError(
          plan.id,
          `requires the event "${requirement.name}", which is neither one of Tracee's events nor produced by a registered detector`,
        );
      }
      host.logger.info("optional event not available; the detector runs without it", "detector", plan.id, "event", requirement.name);
    }
    const declared: DataSource[] = [];
    for (const ref of plan.dataSources) {
      const ds = host.getDataSource(ref.namespace, ref.id);
      if (ds !== undefined) {
        declared.push(ds);
        continue;
      }
      if (!ref.optional) {
        throw new EngineRegistrationError(plan.id, `requires the data source ${ref.namespace}/${ref.id}, which is not registered`);
      }
      host.logger.info("optional data source not registered", "detector", plan.id, "namespace", ref.namespace, "id", ref.id);
    }
    let participant: Participant;
    if (plan.kind === "detector") {
      const eventNames = (plan.events as readonly string[]).filter((name) => available.has(name));
      const p: DetectorParticipant = new DetectorParticipant(
        plan.source as Detector,
        {
          eventId: FIRST_DETECTOR_EVENT_ID + detectorIndex++,
          compileFilters: host.compileFilters,
          params: {
            logger: detectorLogger(host.logger, plan.id),
            getDataSource: host.lookup(() => p),
            dataStores: host.dataStores(plan.id),
            config: createDetectorConfig(plan.config),
          },
          ancestry: host.ancestry,
        },
        eventNames,
      );
      participant = p;
    } else {
      const lookupFor: { participant?: Participant } = {};
      const lookup = host.lookup(() => lookupFor.participant as Participant);
      participant = adaptSignature(plan.source as Signature, {
        getDataSource: lookup,
        logger: detectorLogger(host.logger, plan.id),
        eventIdFor: signatureIds,
      });
      lookupFor.participant = participant;
    }
    built.push({ participant, declared, plan });
  }
  return built;
}
