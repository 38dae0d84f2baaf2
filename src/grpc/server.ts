import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { formatAddress, parseAddress } from "./address.js";
import { resolveLimits } from "./limits.js";
import type { ServiceStats } from "./budget.js";
import { resolveDataStoreLimits } from "./datastore-limits.js";
import {
  createDataStoreService,
  type DataStoreLookup,
  type DataStoreServiceHandle,
  type DataStoreServiceOptions,
  type DataStoreStats,
} from "./datastore-service.js";
import {
  createDataSourceService,
  type DataSourceLookup,
  type DataSourceServiceHandle,
  type DataSourceServiceOptions,
} from "./service.js";
import { GrpcServer } from "./transport/h2/grpc-server.js";
import { bindUnixSocket, clearStaleSocket, removeSocketFile, type SocketFile } from "./unix-socket.js";

/**
 * Options of {@link serveDataSources} (and, but for `dataStores`, of
 * {@link serveDataStores}). The service options (`authorize`, `logger`,
 * `exposeInternalErrors`, `maxMessageBytes`, `maxDepth`) apply to every
 * service the server runs.
 */
export interface ServeOptions extends DataSourceServiceOptions, DataStoreServiceOptions {
  /**
   * Also serve Tracee's DataStoreService over these stores, on the same
   * address (`tracee-ds run --serve` does). Default: DataSourceService only.
   */
  readonly dataStores?: DataStoreLookup;
  /**
   * Where to listen: `unix:///path/to.sock` or `host:port` (`127.0.0.1:0`
   * picks a free port). Tracee itself listens on `unix:///var/run/tracee.sock`.
   */
  readonly address: string;
  /**
   * TLS or mTLS: `grpc.ServerCredentials.createSsl(rootCerts, [{ private_key, cert_chain }], checkClientCertificate)`.
   * Default: insecure (plaintext), fit for a unix socket.
   */
  readonly credentials?: ServerCredentials;
  /** Permission bits of a unix socket file (default `0o600`: the owner only). */
  readonly socketMode?: number;
  /**
   * grpc-js server options (`grpc.keepalive_time_ms`, …). Given, the server
   * runs on grpc-js's server with them; by default it runs on this package's
   * own HTTP/2, which serves the same semantics faster.
   */
  readonly serverOptions?: ServerOptions;
}

/** Options of {@link DataSourceServer.close}. */
export interface CloseOptions {
  /**
   * How long in-flight calls may take to finish before they are cancelled
   * (default 5000 ms). A call cancelled before its data source write started
   * writes nothing; a write already running finishes.
   */
  readonly graceMs?: number;
}

/** A running server from {@link serveDataSources}. */
export interface DataSourceServer {
  /**
   * The bound address: `unix:///abs/path.sock`, or `host:port` with the port
   * actually bound (useful with port 0).
   */
  readonly address: string;
  /**
   * Stops accepting calls, lets in-flight calls finish within `graceMs`, then
   * cancels the rest; waits for data source (and datastore) writes already
   * started; removes the unix socket file. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * Open streams, bytes they hold, how streams ended, and how often each
   * limit refused a call; with `dataStores` served, their service's stats too.
   */
  stats(): DataSourceServerStats;
}

/** {@link DataSourceServer.stats}: the DataSourceService's, and the DataStoreService's when it is served too. */
export interface DataSourceServerStats extends ServiceStats {
  readonly dataStores?: DataStoreStats;
}

/** Options of {@link serveDataStores}. */
export interface ServeDataStoresOptions extends Omit<ServeOptions, "dataStores"> {
  /**
   * Also serve Tracee's DataSourceService over these data sources, on the
   * same address. Its stream limits (`maxStreamEntries`, …) are taken from
   * these options too.
   */
  readonly dataSources?: DataSourceLookup;
}

/** A running server from {@link serveDataStores}. */
export interface DataStoreServer {
  /** The bound address, as {@link DataSourceServer.address}. */
  readonly address: string;
  /**
   * Stops accepting calls, lets in-flight calls finish within `graceMs`, then
   * cancels the rest (a call cancelled before its store operation started
   * changes nothing); waits for store operations already started; removes
   * the unix socket file. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
  /** What the DataStoreService has done; with `dataSources` served, their service's stats too. */
  stats(): DataStoreServerStats;
}

/** {@link DataStoreServer.stats}: the DataStoreService's, and the DataSourceService's when it is served too. */
export interface DataStoreServerStats extends DataStoreStats {
  readonly dataSources?: ServiceStats;
}

function bindAsync(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/**
 * Serves the data sources in `registry` over Tracee's gRPC DataSourceService,
 * resolving once the server listens. With `dataStores`, the same server also
 * serves Tracee's DataStoreService over those stores.
 *
 * Semantics are those of {@link dataSourceService} (the table in docs/grpc.md). A unix
 * socket is created with mode `0o600` unless `socketMode` says otherwise; a
 * stale socket file (nobody listening) is replaced; a live one is never taken
 * over: the promise rejects with "address in use". Rejects also when the
 * address cannot be bound or a limit is invalid.
 *
 * @example
 * ```ts
 * const registry = new DataSourceRegistry().register(new ThresholdDataSource());
 * const server = await serveDataSources(registry, { address: "unix:///run/my-ds.sock" });
 * process.once("SIGTERM", () => void server.close({ graceMs: 2000 }));
 * ```
 */
export async function serveDataSources(registry: DataSourceLookup, options: ServeOptions): Promise<DataSourceServer> {
  const limits = resolveLimits(options);
  const sources = createDataSourceService(registry, options, limits);
  const stores =
    options.dataStores === undefined
      ? undefined
      : createDataStoreService(options.dataStores, options, resolveDataStoreLimits(options));
  return listen(options, limits.maxMessageBytes, [sources, stores], () =>
    stores === undefined ? sources.stats() : { ...sources.stats(), dataStores: stores.stats() },
  );
}

/**
 * Serves the stores in `stores` over Tracee's gRPC DataStoreService
 * (`tracee.v1beta1.datastores.DataStoreService`), resolving once the server
 * listens. With `dataSources`, the same server also serves the
 * DataSourceService over those data sources.
 *
 * Semantics are those of {@link dataStoreService} (docs/grpc.md,
 * "Serving datastores"); addresses, sockets, TLS and `close` are as for
 * {@link serveDataSources}. Rejects when the address cannot be bound or a
 * limit is invalid.
 *
 * @example
 * ```ts
 * const stores = new DataStoreRegistry().register(myStore);
 * const server = await serveDataStores(stores, { address: "127.0.0.1:0" });
 * console.log(`datastores on ${server.address}`);
 * ```
 */
export async function serveDataStores(stores: DataStoreLookup, options: ServeDataStoresOptions): Promise<DataStoreServer> {
  const limits = resolveDataStoreLimits(options);
  const storeService = createDataStoreService(stores, options, limits);
  const sources =
    options.dataSources === undefined
      ? undefined
      : createDataSourceService(options.dataSources, options, resolveLimits(options));
  return listen(options, limits.maxMessageBytes, [storeService, sources], () =>
    sources === undefined ? storeService.stats() : { ...storeService.stats(), dataSources: sources.stats() },
  );
}

type Served = Pick<DataSourceServiceHandle | DataStoreServiceHandle, "idle"> & {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
};

/**
 * Binds one grpc-js server running `services` to `options.address`; the
 * running server reports `stats()`.
 */
async function listen<Stats>(
  options: Pick<ServeOptions, "address" | "credentials" | "socketMode" | "serverOptions">,
  maxMessageBytes: number,
  services: readonly (Served | undefined)[],
  stats: () => Stats,
): Promise<{ address: string; close(options?: CloseOptions): Promise<void>; stats(): Stats }> {
  const parsed = parseAddress(options.address);
  const socketMode = options.socketMode ?? 0o600;
  if (!Number.isInteger(socketMode) || socketMode < 0 || socketMode > 0o777) {
    throw new RangeError(`socketMode must be permission bits between 0 and 0o777, got ${socketMode}`);
  }
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  // grpc-js's server only when its own options are asked for; else our HTTP/2, several times faster.
  const server: Pick<Server, "addService" | "tryShutdown" | "forceShutdown"> & { bind?: GrpcServer["bind"] } =
    options.serverOptions === undefined
      ? new GrpcServer({ maxMessageBytes })
      : new Server({ ...options.serverOptions, "grpc.max_receive_message_length": maxMessageBytes });
  const running = services.filter((s): s is Served => s !== undefined);
  for (const service of running) server.addService(service.definition, service.implementation);
  const bindTo = (address: string) =>
    server instanceof GrpcServer ? server.bind(address, credentials) : bindAsync(server as Server, address, credentials);

  let address: string;
  let socket: SocketFile | undefined;
  try {
    if (parsed.kind === "unix") {
      await clearStaleSocket(parsed.path);
      socket = await bindUnixSocket(parsed.path, socketMode, async (at) => {
        await bindTo(at);
      });
      address = formatAddress(parsed);
    } else {
      const port = await bindTo(formatAddress(parsed));
      address = formatAddress({ ...parsed, port });
    }
  } catch (err) {
    server.forceShutdown();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    address,
    stats,
    close({ graceMs = 5000 }: CloseOptions = {}): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            server.forceShutdown();
            finish();
          }, Math.max(0, graceMs));
          server.tryShutdown(() => finish());
        });
        await Promise.all(running.map((service) => service.idle()));
        if (socket !== undefined) await removeSocketFile(socket);
      })();
      return closing;
    },
  };
}
