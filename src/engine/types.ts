/**
 * The detector API: what a detector author writes, modelled on Tracee's
 * `api/v1beta1/detection` (`EventDetector`, `DetectorDefinition`,
 * `DetectorOutput`, `DetectorParams`), in TypeScript.
 *
 * @module
 */
import type { DataSource, DataSourceRef } from "../detect/data-source.js";
import type { DataStore, WritableStore } from "../datastores/store.js";
import type { EventValue, EventValueKind, EventValueKinds, Threat, TraceeEvent } from "../events/model.js";

/** Whether a requirement must be met (`"required"`, the default) or may be missing (`"optional"`). */
export type Dependency = "required" | "optional";

/** One event a detector wants. Go: `detection.EventRequirement`. */
export interface EventRequirement {
  /** The event name (`"openat"`, or an event another detector produces). */
  readonly name: string;
  /** Default `"required"`: registration fails if no source can give this event. */
  readonly dependency?: Dependency;
  /**
   * Data filters in Tracee's policy syntax, evaluated before `onEvent`:
   * `pathname=/etc/shadow`, `pathname=/etc/*` (prefix), `pathname=*shadow`
   * (suffix), `uid!=0`, `count>3`, `count<10`. Filters on the same field OR,
   * on different fields AND.
   */
  readonly dataFilters?: readonly string[];
  /**
   * Scope filters in Tracee's policy syntax: `container`, `not-container`,
   * `pid=1000`, `comm=bash`, `uid!=0`, `executable=/usr/bin/kubectl`, …
   */
  readonly scopeFilters?: readonly string[];
  /**
   * The kinds of the arguments this detector reads from this event, so that
   * `ctx.get(name)` in `onEvent` is typed (and checked) from the definition.
   */
  readonly fields?: Readonly<Record<string, EventValueKind>>;
}

/** A data source a detector needs, by namespace and id. */
export interface DataSourceRequirement {
  readonly namespace: string;
  readonly id: string;
  /** Default `"required"`. */
  readonly dependency?: Dependency;
}

/**
 * A datastore a detector needs, by name. Go: `detection.DataStoreRequirement`.
 * Checked once every detector's `init` ran (a detector may register a store
 * another requires): see docs/detectors.md, "Reading datastores".
 */
export interface DataStoreRequirement {
  /** The store's name, such as `"ip_reputation"`. */
  readonly name: string;
  /** Default `"required"`: the engine does not start without the store. */
  readonly dependency?: Dependency;
}

/** What the engine fills into each output event. Go: `detection.AutoPopulateFields`. */
export interface AutoPopulate {
  /** Copy the definition's `threat` into the output (when the output sets none). */
  readonly threat?: boolean;
  /** Record the input event in `detected_from`, chained to the input's own. */
  readonly detectedFrom?: boolean;
  /** Fill the process's ancestors from the `process_tree` data source (5 levels). */
  readonly processAncestry?: boolean;
}

/** A field of the produced event, for documentation and `--list`. */
export interface ProducedField {
  readonly name: string;
  readonly type: string;
}

/** The event a detector produces. Go: `v1beta1.EventDefinition`. */
export interface ProducedEvent {
  /** The output event's name: what outputs print and other detectors require. */
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly fields?: readonly ProducedField[];
}

/** What a detector is. Go: `detection.DetectorDefinition`. */
export interface DetectorDefinition {
  /** A unique id, `"TRC-102"`. */
  readonly id: string;
  readonly requirements: {
    readonly events: readonly EventRequirement[];
    readonly dataSources?: readonly DataSourceRequirement[];
    /** Datastores it reads through `params.dataStores` (Go: `Requirements.DataStores`). */
    readonly dataStores?: readonly DataStoreRequirement[];
  };
  readonly producedEvent: ProducedEvent;
  /** The threat every output carries when `autoPopulate.threat` (Go: `ThreatMetadata`). */
  readonly threat?: Threat;
  readonly autoPopulate?: AutoPopulate;
}

/** One detection. Go: `detection.DetectorOutput`. */
export interface DetectorOutput {
  /** The output event's arguments (default none). */
  readonly data?: readonly EventValue[];
  /** Overrides the definition's `autoPopulate` for this output. */
  readonly autoPopulate?: AutoPopulate;
  /** A threat for this output, instead of the definition's. */
  readonly threat?: Threat;
  /** Ancestor levels to fill for this output (0: none), instead of the definition's 5 or none. */
  readonly ancestryDepth?: number;
}

/** Logs with key/value pairs, as Tracee's detector logger does (`Debugw`, …); plain names too. */
export interface DetectorLogger {
  debugw(msg: string, ...keyvals: unknown[]): void;
  infow(msg: string, ...keyvals: unknown[]): void;
  warnw(msg: string, ...keyvals: unknown[]): void;
  errorw(msg: string, ...keyvals: unknown[]): void;
  debug(msg: string, ...keyvals: unknown[]): void;
  info(msg: string, ...keyvals: unknown[]): void;
  warn(msg: string, ...keyvals: unknown[]): void;
  error(msg: string, ...keyvals: unknown[]): void;
}

/** A detector's configuration, with Tracee's getters and their defaults. Go: `detection.DetectorConfig`. */
export interface DetectorConfig {
  getInt(key: string, defaultValue: number): number;
  getString(key: string, defaultValue: string): string;
  getBool(key: string, defaultValue: boolean): boolean;
  getFloat64(key: string, defaultValue: number): number;
  has(key: string): boolean;
}

/** Looks a data source up, as `SignatureContext.getDataSource` does. */
export interface GetDataSourceFn {
  (namespace: string, id: string): DataSource | undefined;
  <D extends DataSource>(ref: DataSourceRef<D>): D | undefined;
}

declare const STORE_TYPE: unique symbol;

/**
 * A typed handle on a datastore: its name, plus the type
 * `params.dataStores.get(ref)` returns. The type is a promise made by whoever
 * creates the reference; the lookup checks only the name. Create one with
 * `storeRef`.
 */
export interface StoreRef<S extends DataStore = DataStore> {
  readonly name: string;
  /** @internal Carries `S` at the type level only. */
  readonly [STORE_TYPE]?: S;
}

/**
 * A detector's view of the engine's datastores. Go: the custom-store part of
 * `datastores.Registry` (`GetCustom`, `RegisterWritableStore`).
 */
export interface DetectorDataStores {
  /**
   * The store registered under `name` (Go: `GetCustom`), or `undefined`. A
   * live lookup: a store registered later is found by a later call.
   */
  get(name: string): DataStore | undefined;
  /** The store `ref` names, typed as the reference says. */
  get<S extends DataStore>(ref: StoreRef<S>): S | undefined;
  /**
   * Registers a writable store this detector owns, so other detectors read it
   * and a `DataStoreService` server serves it (Go: `RegisterWritableStore`).
   * Returns the store. Throws when the name is taken (a store survives a
   * reload: register only when `get` finds none) or the store is not a
   * `WritableStore`.
   */
  register<S extends WritableStore>(store: S): S;
}

/** What `init` receives. Go: `detection.DetectorParams`. */
export interface DetectorParams {
  readonly logger: DetectorLogger;
  readonly getDataSource: GetDataSourceFn;
  /** The engine's datastores: read them, or register one this detector owns. */
  readonly dataStores: DetectorDataStores;
  readonly config: DetectorConfig;
}

/** The names of the events a definition requires. */
export type RequiredEventName<D extends DetectorDefinition> = D["requirements"]["events"][number]["name"];

/** The declared fields of every required event, merged: field name → kind. */
type DeclaredFields<D extends DetectorDefinition> = {
  [R in D["requirements"]["events"][number] as R["name"]]: R["fields"] extends Readonly<Record<string, EventValueKind>>
    ? R["fields"]
    : Record<never, never>;
}[RequiredEventName<D>];

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Field name → kind, for every field any required event declares. */
export type FieldKinds<D extends DetectorDefinition> = UnionToIntersection<DeclaredFields<D>> extends infer F
  ? { [K in keyof F]: F[K] extends EventValueKind ? F[K] : never }
  : never;

/** The event `onEvent` receives: a Tracee event whose name is one the definition requires. */
export type DetectorEvent<D extends DetectorDefinition> = TraceeEvent & { readonly name: RequiredEventName<D> };

/** What `onEvent` gets besides the event: typed access to its declared fields. */
export interface OnEventContext<D extends DetectorDefinition> {
  /**
   * The argument `field` of the current event, as the kind its requirement
   * declares (exact), or `undefined` when missing or of another kind.
   */
  get<F extends keyof FieldKinds<D> & string>(field: F): EventValueKinds[FieldKinds<D>[F] & EventValueKind] | undefined;
}

/** What `onEvent` may return: outputs, none, or a promise of either. */
export type OnEventResult = readonly DetectorOutput[] | undefined | void;

/**
 * A detector: its definition and the hooks the engine calls. Go:
 * `detection.EventDetector` (`GetDefinition`, `Init`, `OnEvent`, and the
 * optional `Close`).
 */
export interface Detector<D extends DetectorDefinition = DetectorDefinition> {
  readonly definition: D;
  /** Called once before any event; may be async. A throw fails the registration. */
  init?(params: DetectorParams): void | Promise<void>;
  /** Called for each event the detector requires and whose filters pass. A throw is logged and counted. */
  onEvent(event: DetectorEvent<D>, ctx: OnEventContext<D>): OnEventResult | Promise<OnEventResult>;
  /** Called once at the end. */
  close?(): void | Promise<void>;
  /**
   * Hot reload: the state this detector hands to its replacement. Called on
   * the old instance once it has handled every event before the swap.
   */
  snapshot?(): unknown;
  /**
   * Hot reload: takes what the old instance's `snapshot` returned (when the
   * old one had a `snapshot` and the same id), after `init` and before the
   * first event. A throw is logged; the detector then starts afresh.
   */
  restore?(state: unknown): void;
}

/** One process of an ancestry, as a process tree data source gives it (the process first, then its parents). */
export interface AncestorInfo {
  readonly uniqueId: number;
  readonly hostPid: number;
  readonly pid: number;
  readonly name: string;
  readonly exe: string;
}
