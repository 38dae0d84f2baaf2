/**
 * A small HTTP server for Prometheus to scrape: `GET /metrics` and nothing else.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What {@link serveMetrics} serves: a `prometheusMetrics()` fits. */
export interface MetricsSource {
  /** The metrics text. */
  metrics(): Promise<string>;
  /** Where the content type of that text comes from. */
  readonly registry: { readonly contentType: string };
}

/** A running server from {@link serveMetrics}. */
export interface MetricsServer {
  /** Where the metrics are: `http://HOST:PORT/metrics`, with the port actually bound. */
  readonly url: string;
  /** Stops listening and closes open connections, keep-alive ones included. Calling it again returns the same promise. */
  close(): Promise<void>;
}

/**
 * Serves `source` at `http://HOST:PORT/metrics`, resolving once it listens.
 * `address` is `HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`
 * for every interface); port 0 picks a free port (see `url`).
 *
 * `GET` (and `HEAD`) `/metrics` answers the metrics text with the registry's
 * content type; a failure to collect them answers 500 with the reason. Other
 * paths answer 404, other methods 405.
 *
 * @throws TypeError when `address` is not `HOST:PORT`.
 * @throws Error (with the system error as `cause`) when the address cannot be
 * bound: the port is in use, the host is not local, or binding needs privileges.
 *
 * @example
 * ```ts
 * const metrics = prometheusMetrics();
 * const server = await serveMetrics("127.0.0.1:9464", metrics);
 * process.once("SIGTERM", () => void server.close());
 * ```
 */
export async function serveMetrics(address: string, source: MetricsSource): Promise<MetricsServer> {
  const { host, port } = parseHostPort(address);
  const server = createServer((req, res) => void respond(req, res, source));
  await listen(server, host.replace(/^\[(.*)\]$/, "$1"), port, address);
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Splits `HOST:PORT` (an IPv6 host in brackets); throws TypeError with the reason. */
function parseHostPort(address: string): { host: string; port: number } {
  const match = typeof address === "string" ? /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(address) : null;
  if (match === null) {
    throw new TypeError(`metrics address must be "HOST:PORT" (e.g. "127.0.0.1:9464"), got ${JSON.stringify(address)}`);
  }
  const port = Number(match[2]);
  if (port > 65535) throw new TypeError(`metrics port out of range in ${JSON.stringify(address)}`);
  return { host: match[1] ?? "", port };
}

/** Listens on `host:port`, rejecting with a plain-words reason when that fails. */
function listen(server: Server, host: string, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new Error(`cannot serve metrics on ${address}: ${reason(err, host)}`, { cause: err }));
    server.once("error", failed);
    server.listen({ host, port }, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

function reason(err: NodeJS.ErrnoException, host: string): string {
  switch (err.code) {
    case "EADDRINUSE":
      return "the port is in use";
    case "EADDRNOTAVAIL":
      return `${host} is not an address of this machine`;
    case "EACCES":
      return "permission denied (ports below 1024 need privileges)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve the host ${JSON.stringify(host)}`;
    default:
      return err.message;
  }
}

async function respond(req: IncomingMessage, res: ServerResponse, source: MetricsSource): Promise<void> {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path !== "/metrics") return send(res, 404, "not found: the metrics are at /metrics\n");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return send(res, 405, "method not allowed: use GET\n");
  }
  let text: string;
  try {
    text = await source.metrics();
  } catch (err) {
    return send(res, 500, `collecting the metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  res.writeHead(200, { "Content-Type": source.registry.contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
