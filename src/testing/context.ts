import type { DataSource } from "../detect/data-source.js";
import { DataSourceRegistry } from "../detect/registry.js";
import type { Finding, Logger, SignatureContext } from "../detect/signature.js";

/** The level of a captured log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One line a signature logged through `ctx.logger`. */
export interface LogLine {
  readonly level: LogLevel;
  readonly msg: string;
  /** The Go-style key/value pairs after the message. */
  readonly keyvals: readonly unknown[];
}

/** Options for {@link createSignatureContext}. */
export interface SignatureContextOptions {
  /**
   * The data sources the context serves: a list registered into a new
   * {@link DataSourceRegistry}, or a registry used as it is. Defaults to none.
   */
  readonly dataSources?: Iterable<DataSource> | DataSourceRegistry;
  /** Also receives every log line (they are captured either way), e.g. `console`. */
  readonly logger?: Logger;
}

/** A real {@link SignatureContext} and what went through it; made by {@link createSignatureContext}. */
export interface TestSignatureContext {
  /** The context to pass to `signature.init`. */
  readonly ctx: SignatureContext;
  /** The registry behind `ctx.getDataSource`; register more data sources here. */
  readonly registry: DataSourceRegistry;
  /** Every finding reported through `ctx.callback`, oldest first (a live array). */
  readonly findings: Finding[];
  /** Every line logged through `ctx.logger`, oldest first (a live array). */
  readonly logs: LogLine[];
  /** Empties `findings` and `logs`. */
  clear(): void;
}

/**
 * A real {@link SignatureContext} for unit tests, built on
 * {@link DataSourceRegistry.context}, that captures findings and log lines.
 *
 * `ctx.getDataSource` answers exactly as the registry does (`undefined` for an
 * unknown namespace/id). Registering `dataSources` throws the registry's
 * `RegistryError` for a duplicate namespace/id.
 *
 * @example
 * ```ts
 * const { ctx, findings } = createSignatureContext({ dataSources: [new ThresholdDataSource()] });
 * signature.init(ctx);
 * signature.onEvent(event);
 * findings.length; // what the signature reported
 * ```
 */
export function createSignatureContext(options: SignatureContextOptions = {}): TestSignatureContext {
  const registry = toRegistry(options.dataSources);
  const findings: Finding[] = [];
  const logs: LogLine[] = [];
  const forward = options.logger;
  const line =
    (level: LogLevel) =>
    (msg: string, ...keyvals: unknown[]): void => {
      logs.push({ level, msg, keyvals });
      forward?.[level](msg, ...keyvals);
    };
  const logger: Logger = { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
  const ctx = registry.context({ callback: (finding) => findings.push(finding), logger });
  return {
    ctx,
    registry,
    findings,
    logs,
    clear() {
      findings.length = 0;
      logs.length = 0;
    },
  };
}

function toRegistry(dataSources: SignatureContextOptions["dataSources"]): DataSourceRegistry {
  // Duck-typed rather than `instanceof`, so a registry from the other (ESM/CJS) copy of the package works too.
  if (isRegistry(dataSources)) return dataSources;
  const registry = new DataSourceRegistry();
  for (const ds of dataSources ?? []) registry.register(ds);
  return registry;
}

function isRegistry(value: unknown): value is DataSourceRegistry {
  const candidate = value as Partial<DataSourceRegistry> | undefined;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.register === "function" &&
    typeof candidate.context === "function" &&
    typeof candidate.get === "function"
  );
}
