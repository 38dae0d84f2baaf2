import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type DataSource, isDataSource, isWritable } from "../../detect/data-source.js";
import { DataSourceRegistry } from "../../detect/registry.js";
import { serveDataSources } from "../../grpc/index.js";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { type CliIo, println } from "../io.js";
import { serverCredentials, TLS_OPTIONS } from "../tls.js";
import { checkAddress, required } from "./shared.js";

/**
 * How to serve a TypeScript module with a local install: Node runs the
 * installed command with tsx's loader registered, so the module is imported
 * through it. One process, so SIGINT and SIGTERM reach the server (`npx tsx`
 * puts two launchers in between; a SIGTERM sent to npx leaves the server
 * running).
 */
const TSX_SERVE = "node --import tsx node_modules/tracee-ds/dist/cli.js serve";

export const SERVE_HELP = `Usage: tracee-ds serve --address ADDR --module ./datasources.js [options]

Hosts the data sources a module exports over Tracee's DataSourceService, for
development and tests. The module's default export, or its named export
\`dataSources\`, is a data source or an array of them (an async function
returning either also works). Stops cleanly on SIGINT/SIGTERM; a unix socket
file is removed.

Options:
  --address ADDR     unix:///path or host:port; port 0 picks a free port (required)
  --module FILE      the module to load, ESM or CJS JavaScript (required)
  --grace D          how long in-flight calls may finish on stop (default 5s)
  --cert FILE        serve TLS with this certificate (with --tls-key)
  --tls-key FILE     the certificate's private key (with --cert)
  --ca FILE          require client certificates signed by this CA (mTLS)
  -h, --help         show this help

Prints "listening on ADDR" once the server accepts calls.

A TypeScript module needs tsx (npm install --save-dev tsx) and Node 20.6 or
newer; with tracee-ds installed in the project, run:
  ${TSX_SERVE} --address unix:///tmp/ds.sock --module ./datasources.ts

Example:
  tracee-ds serve --address unix:///tmp/ds.sock --module ./datasources.js`;

async function loadDataSources(path: string): Promise<DataSource[]> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const hint =
      (err as { code?: unknown }).code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.[cm]?ts$/.test(path)
        ? `; for TypeScript, run through tsx: ${TSX_SERVE} …`
        : "";
    throw new UsageError(`--module: cannot load ${path}: ${(err as Error).message}${hint}`);
  }
  let exported: unknown = mod["dataSources"] ?? mod["default"];
  // a CJS module's exports arrive as the default export
  if (!isDataSource(exported) && !Array.isArray(exported) && typeof exported === "object" && exported !== null) {
    exported = (exported as Record<string, unknown>)["dataSources"] ?? exported;
  }
  if (typeof exported === "function" && !isDataSource(exported)) exported = await (exported as () => unknown)();
  const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
  if (exported === undefined || list.length === 0) {
    throw new UsageError(`--module: ${path} exports no data sources (use a default export or \`export const dataSources = [...]\`)`);
  }
  list.forEach((ds, i) => {
    if (!isDataSource(ds)) throw new UsageError(`--module: export #${i} of ${path} is not a data source (it lacks get/version/keys/schema/namespace/id)`);
  });
  return list as DataSource[];
}

/** `tracee-ds serve`: resolves when the server has stopped after a signal. @internal */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      address: { type: "string" },
      module: { type: "string" },
      grace: { type: "string" },
      help: { type: "boolean", short: "h" },
      ...TLS_OPTIONS,
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const address = checkAddress(required("address", values.address));
  const modulePath = resolve(io.cwd, required("module", values.module));
  const graceMs = values.grace === undefined ? 5000 : parseDuration("grace", values.grace);
  const credentials = serverCredentials(values, io.cwd);

  const registry = new DataSourceRegistry();
  for (const ds of await loadDataSources(modulePath)) {
    try {
      registry.register(ds);
    } catch (err) {
      throw new UsageError(`--module: ${(err as Error).message}`);
    }
  }
  const stopping = io.waitForStop();
  const server = await serveDataSources(registry, { address, credentials });
  println(io.stdout, `listening on ${server.address}`);
  for (const ds of registry.list()) {
    println(io.stdout, `  ${ds.namespace()}/${ds.id()} v${ds.version()}${isWritable(ds) ? " (writable)" : ""}`);
  }
  const signal = await stopping;
  println(io.stderr, `${signal}: stopping`);
  await server.close({ graceMs });
  println(io.stderr, "stopped");
  return 0;
}
