/**
 * Datastores in the engine: `storeRef`, the `params.dataStores` a detector
 * gets, the order detectors' `init`s run in so that a store one detector
 * registers is there for the detectors that require it, and the check of
 * required stores once every `init` ran (docs/detectors.md, "Reading
 * datastores").
 *
 * @module
 */
import type { Logger } from "../detect/signature.js";
import type { DataStoreRegistry } from "../datastores/registry.js";
import { type DataStore, isWritableStore, type WritableStore } from "../datastores/store.js";
import { EngineRegistrationError } from "./errors.js";
import type { DetectorDataStores, StoreRef } from "./types.js";

/**
 * Names a datastore with the type `params.dataStores.get(ref)` returns.
 *
 * @example
 * ```ts
 * const IpReputation = storeRef<IPReputationStore>("ip_reputation");
 * const store = params.dataStores.get(IpReputation); // IPReputationStore | undefined
 * ```
 */
export function storeRef<S extends DataStore = DataStore>(name: string): StoreRef<S> {
  return Object.freeze({ name });
}

/**
 * The stores detectors registered while one set of detectors was being
 * initialized: removed again when that set fails to start, so a refused
 * reload leaves the registry as it was.
 *
 * @internal
 */
export class StoreSession {
  readonly #added: DataStore[] = [];
  #open = true;

  /** Remembers `store` while the set is being initialized. */
  record(store: DataStore): void {
    if (this.#open) this.#added.push(store);
  }

  /** The set started: later registrations (from `onEvent`) are the detectors' own business. */
  commit(): void {
    this.#open = false;
  }

  /** The set failed: unregisters what its inits registered. */
  rollback(registry: DataStoreRegistry): void {
    this.#open = false;
    for (const store of this.#added) {
      if (registry.get(store.name) === store) registry.unregister(store.name);
    }
  }
}

/** `params.dataStores` of the detector `id`. @internal */
export function detectorDataStores(registry: DataStoreRegistry, id: string, session: StoreSession, logger: Logger): DetectorDataStores {
  return {
    get: ((nameOrRef: string | StoreRef) => registry.get(typeof nameOrRef === "string" ? nameOrRef : nameOrRef?.name)) as DetectorDataStores["get"],
    register<S extends WritableStore>(store: S): S {
      if (!isWritableStore(store)) {
        throw new TypeError(
          "dataStores.register takes a WritableStore: a name, get, write, writeBatch, delete, clear, listSources, keyType and dataType",
        );
      }
      registry.register(store);
      session.record(store);
      logger.info("detector registered a datastore", "detector", id, "store", store.name);
      return store;
    },
  };
}

/** What the init order needs of a built participant. */
interface Declares {
  readonly plan: { readonly dataStores: readonly { readonly name: string }[] };
}

/**
 * The order `init`s run in: registration order, except that a detector
 * whose declared stores are not all registered yet waits for the others.
 * After each `init` the first waiting detector whose stores are all there
 * goes next; when none of the waiting ones is ready, the first of them goes
 * anyway (it may be the one that registers what it or another needs). Lazy:
 * each step looks at the registry as the previous `init` left it.
 *
 * @internal
 */
export function* initOrder<T extends Declares>(built: readonly T[], has: (name: string) => boolean): Generator<T, void, undefined> {
  const pending = [...built];
  while (pending.length > 0) {
    const ready = pending.findIndex((b) => b.plan.dataStores.every((s) => has(s.name)));
    const [next] = pending.splice(ready < 0 ? 0 : ready, 1);
    yield next as T;
  }
}

/**
 * Checks, once every `init` ran, that each detector's required stores are
 * registered; logs the optional ones that are not. Throws an
 * {@link EngineRegistrationError} naming the first detector (in registration
 * order) and store missing.
 *
 * @internal
 */
export function checkStores(
  plans: readonly { readonly id: string; readonly dataStores: readonly { readonly name: string; readonly optional: boolean }[] }[],
  has: (name: string) => boolean,
  logger: Logger,
): void {
  for (const plan of plans) {
    for (const store of plan.dataStores) {
      if (has(store.name)) continue;
      if (!store.optional) {
        throw new EngineRegistrationError(
          plan.id,
          `requires the datastore "${store.name}", which is not registered (neither given to the engine nor registered by a detector's init)`,
        );
      }
      logger.info("optional datastore not registered", "detector", plan.id, "store", store.name);
    }
  }
}
