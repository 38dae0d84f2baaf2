import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataSource } from "../detect/data-source.js";
import { DataSourceRegistry } from "../detect/registry.js";
// Types only: erased from the output. The module itself is imported lazily in
// startTestServer, so loading tracee-ds/testing does not load grpc-js.
import type {
  CloseOptions,
  DataSourceClient,
  DataSourceClientOptions,
  DataSourceLookup,
  ServeOptions,
} from "../grpc/index.js";

/** Options for {@link startTestServer}. */
export interface TestServerOptions {
  /**
   * `"tcp"` (the default) listens on `127.0.0.1:0`, a free loopback port;
   * `"unix"` listens on a socket in a fresh temporary directory, removed by
   * `close()`.
   */
  readonly transport?: "tcp" | "unix";
  /** Options for `serveDataSources` besides `address` (limits, `authorize`, `logger`, …). */
  readonly server?: Omit<ServeOptions, "address">;
  /** Options for the connected `DataSourceClient` (deadline, metadata, …). */
  readonly client?: DataSourceClientOptions;
}

/** A running loopback server and a client connected to it; made by {@link startTestServer}. */
export interface TestServer {
  /** The bound address: `127.0.0.1:<port>` or `unix:///…/ds.sock`. */
  readonly address: string;
  /** A client connected to the server. */
  readonly client: DataSourceClient;
  /** What the server looks data sources up in; read written data back here. */
  readonly registry: DataSourceLookup;
  /** Another client of the same server (closed by `close()` too). */
  connect(options?: DataSourceClientOptions): DataSourceClient;
  /**
   * Closes every client, then the server (in-flight calls get `graceMs`,
   * default 5000), then removes the temporary directory. Calling it again
   * returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Starts a real `tracee-ds/grpc` server for `registry` on loopback, and a
 * client connected to it; one `close()` cleans everything up.
 *
 * `registry` is a {@link DataSourceRegistry} (or anything with
 * `get(namespace, id)`), or a list of data sources to register in a new one.
 * Resolves once the client is connected. Rejects when the server cannot bind
 * or the client cannot connect (within 5 s), having cleaned up. gRPC is loaded
 * on the first call, not when `tracee-ds/testing` is imported.
 *
 * @example
 * ```ts
 * const threshold = new ThresholdDataSource();
 * const server = await startTestServer([threshold]);
 * try {
 *   await server.client.write({ namespace: "my_namespace", id: "threshold_datasource", key: "threshold", value: 10 });
 *   threshold.get("threshold"); // { threshold: 10 }
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export async function startTestServer(
  registry: DataSourceLookup | Iterable<DataSource>,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const grpc = await import("../grpc/index.js");
  const lookup = toLookup(registry);
  let dir: string | undefined;
  const cleanupDir = async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  let address = "127.0.0.1:0";
  if (options.transport === "unix") {
    dir = await mkdtemp(join(tmpdir(), "tracee-ds-test-"));
    address = `unix://${join(dir, "ds.sock")}`;
  }

  let server: Awaited<ReturnType<typeof grpc.serveDataSources>>;
  try {
    server = await grpc.serveDataSources(lookup, { ...options.server, address });
  } catch (err) {
    await cleanupDir();
    throw err;
  }

  const clients: DataSourceClient[] = [];
  const connect = (clientOptions: DataSourceClientOptions = options.client ?? {}): DataSourceClient => {
    const client = new grpc.DataSourceClient(server.address, clientOptions);
    clients.push(client);
    return client;
  };
  let closing: Promise<void> | undefined;
  const close = (closeOptions?: CloseOptions): Promise<void> => {
    closing ??= (async () => {
      for (const client of clients) client.close();
      try {
        await server.close(closeOptions);
      } finally {
        await cleanupDir();
      }
    })();
    return closing;
  };

  const client = connect();
  try {
    await client.waitForReady(5000);
  } catch (err) {
    await close({ graceMs: 0 });
    throw err;
  }
  return { address: server.address, client, registry: lookup, connect, close };
}

function toLookup(registry: DataSourceLookup | Iterable<DataSource>): DataSourceLookup {
  if (typeof (registry as Partial<DataSourceLookup>).get === "function") return registry as DataSourceLookup;
  const created = new DataSourceRegistry();
  for (const ds of registry as Iterable<DataSource>) created.register(ds);
  return created;
}
