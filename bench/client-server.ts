/**
 * Client bench, server process: our `serveDataSources` hosting a writable
 * string → string data source `e2e_inst/demo`, the same as the Go reference
 * server's (../shared/go-reference/server.go), on TCP and on a unix socket.
 * It counts what it was asked to write, so client.bench.ts can check that
 * every run wrote what it should. Driven over IPC.
 *
 * Usage (forked): client-server.ts [UNIX_SOCKET_PATH]
 *
 * @internal
 */
import { DataSourceRegistry, ErrFailedToUnmarshal, ErrDataNotFound, type WritableDataSource, type WriteData } from "../src/index.js";
import { serveDataSources } from "../src/grpc/index.js";

const send = (message: unknown) => process.send?.(message);

/** Like goref's `demo`: string keys to string values, anything else refused. */
const store = new Map<string, string>();
const counts = { writes: 0, entries: 0, refused: 0 };
const demo: WritableDataSource<string, { value: string }> = {
  get: (key) => {
    const value = store.get(key);
    if (value === undefined) throw ErrDataNotFound;
    return { value };
  },
  version: () => 1,
  keys: () => ["string"],
  schema: () => '{"value":"string"}',
  namespace: () => "e2e_inst",
  id: () => "demo",
  values: () => ["string"],
  write: (data: WriteData) => {
    for (const [k, v] of data) {
      if (typeof k !== "string" || typeof v !== "string") {
        counts.refused++;
        throw ErrFailedToUnmarshal;
      }
    }
    for (const [k, v] of data) store.set(k as string, v as string);
    counts.writes++;
    counts.entries += data.size;
  },
};

const registry = new DataSourceRegistry().register(demo);
const tcp = await serveDataSources(registry, { address: "127.0.0.1:0" });
const unixPath = process.argv[2];
const unix = unixPath === undefined ? undefined : await serveDataSources(registry, { address: `unix://${unixPath}` });

const stats = () => ({ ...counts, tcp: tcp.stats(), unix: unix?.stats() });

process.on("message", (message: { type: string }) => {
  if (message.type === "stats") {
    send({ type: "stats", stats: stats() });
  } else if (message.type === "stop") {
    void Promise.all([tcp.close({ graceMs: 0 }), unix?.close({ graceMs: 0 })]).then(() => process.exit(0));
  }
});
const addresses = { tcp: tcp.address, unix: unix?.address };
if (process.send === undefined) console.log(JSON.stringify(addresses)); // standalone: for a profile
else send({ type: "ready", addresses });
