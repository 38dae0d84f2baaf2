import { DATA_SOURCE_METHODS, type DataSource, type DataSourceRef } from "./data-source.js";
import type { Finding, GetDataSource, Logger, SignatureContext } from "./signature.js";

/** Why the registry refused a data source. */
export type RegistryErrorCode = "DUPLICATE_DATA_SOURCE" | "INVALID_DATA_SOURCE";

/** Thrown by {@link DataSourceRegistry.register}. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RegistryError";
    this.code = code;
  }
}

function describe(ds: DataSource<unknown, object>): string {
  const name = (ds as { constructor?: { name?: unknown } }).constructor?.name;
  const kind = typeof name === "string" && name !== "Object" && name !== "" ? name : "data source";
  let version: string;
  try {
    version = String(ds.version());
  } catch {
    version = "?";
  }
  return `${kind} v${version}`;
}

/**
 * A {@link Logger} that drops everything: the default logger of signature
 * contexts and of the gRPC service.
 *
 * @internal
 */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** Options for {@link DataSourceRegistry.context}. */
export interface ContextOptions {
  /** Receives every finding a signature reports. */
  readonly callback: (finding: Finding) => void;
  /** Where signatures log; defaults to a logger that drops everything. */
  readonly logger?: Logger;
}

/**
 * The data sources one engine knows, keyed by namespace, then id.
 *
 * Lookups are live: a context built before a data source registers sees it
 * once it has.
 *
 * @example
 * ```ts
 * const registry = new DataSourceRegistry();
 * registry.register(new ThresholdDataSource());
 * const ctx = registry.context({ callback: (f) => console.log(f.data) });
 * await signature.init(ctx);
 * ```
 */
export class DataSourceRegistry {
  readonly #byNamespace = new Map<string, Map<string, DataSource>>();

  /**
   * Adds a data source under its `namespace()` and `id()`.
   *
   * Throws a {@link RegistryError}: `DUPLICATE_DATA_SOURCE` when that
   * namespace/id is taken (the message names both sources),
   * `INVALID_DATA_SOURCE` when `ds` lacks a method of the contract or its
   * namespace or id is not a non-empty string. Returns the registry, for chaining.
   */
  register(ds: DataSource<unknown, object>): this {
    const missing = DATA_SOURCE_METHODS.find(
      (method) => typeof (ds as unknown as Record<string, unknown>)[method] !== "function",
    );
    if (missing !== undefined) {
      throw new RegistryError("INVALID_DATA_SOURCE", `cannot register data source: it has no ${missing}() method`);
    }
    const namespace: unknown = ds.namespace();
    const id: unknown = ds.id();
    if (typeof namespace !== "string" || namespace === "" || typeof id !== "string" || id === "") {
      throw new RegistryError(
        "INVALID_DATA_SOURCE",
        `cannot register data source: namespace and id must be non-empty strings, got ${JSON.stringify(namespace)} and ${JSON.stringify(id)}`,
      );
    }
    let ids = this.#byNamespace.get(namespace);
    const existing = ids?.get(id);
    if (existing !== undefined) {
      throw new RegistryError(
        "DUPLICATE_DATA_SOURCE",
        `cannot register data source ${namespace}/${id} (${describe(ds)}): ${namespace}/${id} is already registered (${describe(existing)})`,
      );
    }
    if (ids === undefined) {
      ids = new Map();
      this.#byNamespace.set(namespace, ids);
    }
    // Stored as the default DataSource: any object result reads as a record of unknowns.
    ids.set(id, ds as DataSource);
    return this;
  }

  /** Removes the data source under `namespace`/`id`; returns whether there was one. */
  unregister(namespace: string, id: string): boolean {
    const ids = this.#byNamespace.get(namespace);
    const removed = ids?.delete(id) ?? false;
    if (ids !== undefined && ids.size === 0) this.#byNamespace.delete(namespace);
    return removed;
  }

  /** The data source under `namespace`/`id`, or `undefined`. */
  get(namespace: string, id: string): DataSource | undefined;
  /** The data source a typed reference names, or `undefined`. */
  get<D extends DataSource>(ref: DataSourceRef<D>): D | undefined;
  get(namespaceOrRef: string | DataSourceRef, id?: string): DataSource | undefined {
    if (typeof namespaceOrRef === "string") return this.#byNamespace.get(namespaceOrRef)?.get(id ?? "");
    return this.#byNamespace.get(namespaceOrRef.namespace)?.get(namespaceOrRef.id);
  }

  /** Whether a data source is registered under `namespace`/`id`. */
  has(namespace: string, id: string): boolean {
    return this.get(namespace, id) !== undefined;
  }

  /** Every registered data source, in registration order within each namespace. */
  list(): DataSource[] {
    const all: DataSource[] = [];
    for (const ids of this.#byNamespace.values()) all.push(...ids.values());
    return all;
  }

  /** The namespaces that hold at least one data source. */
  namespaces(): string[] {
    return [...this.#byNamespace.keys()];
  }

  /** How many data sources are registered. */
  get size(): number {
    let n = 0;
    for (const ids of this.#byNamespace.values()) n += ids.size;
    return n;
  }

  /**
   * Builds the {@link SignatureContext} a signature receives in `init`.
   * Go: `detect.SignatureContext`.
   */
  context(options: ContextOptions): SignatureContext {
    const getDataSource = ((namespaceOrRef: string | DataSourceRef, id?: string) =>
      typeof namespaceOrRef === "string"
        ? this.get(namespaceOrRef, id ?? "")
        : this.get(namespaceOrRef)) as GetDataSource;
    return Object.freeze({ callback: options.callback, logger: options.logger ?? silentLogger, getDataSource });
  }
}
