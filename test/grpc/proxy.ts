/**
 * A byte-for-byte TCP or unix-socket proxy in front of a server, so a test can
 * cut a client's connection from outside the client (the server sees the
 * socket drop, as when a client process dies).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach } from "vitest";
import { tempDir, type Transport } from "./helpers.js";

export interface Proxy {
  /** The address clients dial: `127.0.0.1:port` or `unix:///path`. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every connection open now, both sides. */
  cutAll(): void;
  close(): Promise<void>;
}

const proxies: Proxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

function dialTarget(target: string): Socket {
  if (target.startsWith("unix://")) return connect(target.slice("unix://".length));
  const at = target.lastIndexOf(":");
  return connect(Number(target.slice(at + 1)), target.slice(0, at));
}

/** Starts a proxy to `target` (a server's address), closed after the test. */
export async function startProxy(target: string, transport: Transport): Promise<Proxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = dialTarget(target);
    open.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", cut).on("close", cut);
    upstream.on("error", cut).on("close", cut);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const path = transport === "unix" ? join(tempDir(), "proxy.sock") : undefined;
  await new Promise<void>((resolve) => {
    if (path !== undefined) server.listen(path, resolve);
    else server.listen(0, "127.0.0.1", resolve);
  });
  const port = path === undefined ? (server.address() as { port: number }).port : 0;
  const proxy: Proxy = {
    address: path !== undefined ? `unix://${path}` : `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cutAll() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cutAll();
        server.close(() => resolve());
      }),
  };
  proxies.push(proxy);
  return proxy;
}
