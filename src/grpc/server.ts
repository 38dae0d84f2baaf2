import { Server, ServerCredentials, type ServerOptions } from "@grpc/grpc-js";
import { formatAddress, parseAddress } from "./address.js";
import { resolveLimits } from "./limits.js";
import type { ServiceStats } from "./budget.js";
import { createDataSourceService, type DataSourceLookup, type DataSourceServiceOptions } from "./service.js";
import { bindUnixSocket, clearStaleSocket, removeSocketFile, type SocketFile } from "./unix-socket.js";

/** Options of {@link serveDataSources}. */
export interface ServeOptions extends DataSourceServiceOptions {
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
  /** Extra grpc-js server options (`grpc.keepalive_time_ms`, …). */
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
   * cancels the rest; waits for data source writes already started; removes
   * the unix socket file. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Open streams, bytes they hold, how streams ended, and how often each limit refused a call. */
  stats(): ServiceStats;
}

function bindAsync(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/**
 * Serves the data sources in `registry` over Tracee's gRPC DataSourceService,
 * resolving once the server listens.
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
  const parsed = parseAddress(options.address);
  const limits = resolveLimits(options);
  const socketMode = options.socketMode ?? 0o600;
  if (!Number.isInteger(socketMode) || socketMode < 0 || socketMode > 0o777) {
    throw new RangeError(`socketMode must be permission bits between 0 and 0o777, got ${socketMode}`);
  }
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  const service = createDataSourceService(registry, options, limits);
  const server = new Server({
    ...options.serverOptions,
    "grpc.max_receive_message_length": limits.maxMessageBytes,
  });
  server.addService(service.definition, service.implementation);

  let address: string;
  let socket: SocketFile | undefined;
  try {
    if (parsed.kind === "unix") {
      await clearStaleSocket(parsed.path);
      socket = await bindUnixSocket(parsed.path, socketMode, async (bindTo) => {
        await bindAsync(server, bindTo, credentials);
      });
      address = formatAddress(parsed);
    } else {
      const port = await bindAsync(server, formatAddress(parsed), credentials);
      address = formatAddress({ ...parsed, port });
    }
  } catch (err) {
    server.forceShutdown();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    address,
    stats: () => service.stats(),
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
        await service.idle();
        if (socket !== undefined) await removeSocketFile(socket);
      })();
      return closing;
    },
  };
}
