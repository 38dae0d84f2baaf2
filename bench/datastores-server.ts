/**
 * Datastores bench, server process: our `serveDataStores` serving one
 * `ipReputationStore()` (`ip_reputation`, last-write-wins) on 127.0.0.1.
 * Forked by datastores.bench.ts (with `--expose-gc`), one per run, and
 * driven over IPC:
 *
 * - `{ type: "memory" }` → `{ type: "memory", memory }`: `process.memoryUsage()`
 *   after two full collections (when `gc` is exposed);
 * - `{ type: "size" }` → `{ type: "size", size, sources, stats }`: the
 *   store's `size`, its sources, the server's stats;
 * - `{ type: "stop" }`: closes the server and exits.
 *
 * Standalone (for a profile), prints its address; Ctrl-C (SIGINT) stops it:
 *   node --cpu-prof --import tsx bench/datastores-server.ts
 *
 * @internal
 */
import { DataStoreRegistry, ipReputationStore } from "../src/index.js";
import { serveDataStores } from "../src/grpc/index.js";

const send = (message: unknown) => process.send?.(message);

const store = ipReputationStore();
const server = await serveDataStores(new DataStoreRegistry([store]), { address: "127.0.0.1:0" });

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

const shutdown = () => void server.close({ graceMs: 0 }).then(() => process.exit(0));
// Standalone: exit on Ctrl-C by way of process.exit, so --cpu-prof writes its profile.
process.once("SIGINT", shutdown);
process.on("message", (message: { type: string }) => {
  if (message.type === "memory") {
    collect();
    send({ type: "memory", memory: process.memoryUsage() });
  } else if (message.type === "size") {
    send({ type: "size", size: store.size, sources: store.listSources(), stats: server.stats() });
  } else if (message.type === "stop") {
    shutdown();
  }
});
if (process.send === undefined) console.log(server.address);
else send({ type: "ready", address: server.address, pid: process.pid });
