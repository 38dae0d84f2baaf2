/**
 * All the built-in data sources at once.
 *
 * @module
 */
import type { TraceeEvent } from "../../events/model.js";
import { type ContainersOptions, ContainersDataSource } from "./containers.js";
import { type DnsOptions, DnsDataSource } from "./dns.js";
import { type ProcessTreeOptions, ProcessTreeDataSource } from "./process-tree.js";
import type { BuiltinDataSource } from "./shared.js";

/** Options of {@link builtinDataSources}, one object per source. */
export interface BuiltinDataSourcesOptions {
  readonly processTree?: ProcessTreeOptions;
  readonly containers?: ContainersOptions;
  readonly dns?: DnsOptions;
}

/** The built-in data sources, by name and as a list, with one `observe` for all. */
export interface BuiltinDataSources {
  /** `tracee`/`process_tree`. */
  readonly processTree: ProcessTreeDataSource;
  /** `tracee`/`containers`. */
  readonly containers: ContainersDataSource;
  /** `tracee`/`dns`. */
  readonly dns: DnsDataSource;
  /** The three, to register: process tree, containers, DNS. */
  readonly all: readonly BuiltinDataSource[];
  /** Every event name any of them learns from, without repeats. */
  readonly events: readonly string[];
  /** Hands `event` to each of them. */
  observe(event: TraceeEvent): void;
}

/**
 * Tracee's built-in data sources, rebuilt from the event stream:
 * `process_tree`, `containers` and `dns`, all in namespace `tracee`, as
 * Tracee registers them for signatures.
 *
 * @example
 * ```ts
 * const builtins = builtinDataSources({ processTree: { maxEntries: 65_536 } });
 * for (const ds of builtins.all) registry.register(ds);
 * for await (const event of input) builtins.observe(event);
 * ```
 */
export function builtinDataSources(options: BuiltinDataSourcesOptions = {}): BuiltinDataSources {
  const processTree = new ProcessTreeDataSource(options.processTree);
  const containers = new ContainersDataSource(options.containers);
  const dns = new DnsDataSource(options.dns);
  const all: readonly BuiltinDataSource[] = Object.freeze([processTree, containers, dns]);
  const events = Object.freeze([...new Set(all.flatMap((ds) => ds.events))]);
  return Object.freeze({
    processTree,
    containers,
    dns,
    all,
    events,
    observe(event: TraceeEvent): void {
      processTree.observe(event);
      containers.observe(event);
      dns.observe(event);
    },
  });
}
