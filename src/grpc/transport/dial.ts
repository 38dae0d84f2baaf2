/**
 * Dialing a gRPC server: the address forms the client accepts, the socket,
 * and TLS through the caller's grpc-js `ChannelCredentials` (their own
 * connector, so TLS and mTLS behave exactly as in grpc-js, including
 * `grpc.ssl_target_name_override`).
 *
 * @internal
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import type { CallCredentials, ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
import { formatAddress, type ParsedAddress, parseAddress } from "../address.js";

/** Where the client connects, and what it calls the server. @internal */
export interface DialTarget {
  readonly address: ParsedAddress;
  /** The canonical address text (`unix:///abs` or `host:port`). */
  readonly text: string;
  /** The HTTP/2 `:authority` (`localhost` for a unix socket, as grpc-js sends). */
  readonly authority: string;
}

/**
 * Parses a client address: `unix:///path` (also `unix:/path`,
 * `unix:relative`), `host:port`, `[v6]:port`, and grpc-js's `dns:///host:port`,
 * `dns:host:port`, `ipv4:addr:port` and `ipv6:[addr]:port` spellings of one
 * host. Throws `TypeError` with the reason.
 */
export function dialTarget(address: string): DialTarget {
  if (typeof address !== "string" || address === "") {
    throw new TypeError(`address must be "unix:///path" or "host:port", got ${JSON.stringify(address)}`);
  }
  const plain = address.replace(/^dns:(\/\/\/)?/, "").replace(/^ipv[46]:/, "");
  const parsed = parseAddress(plain);
  return {
    address: parsed,
    text: formatAddress(parsed),
    authority: parsed.kind === "unix" ? "localhost" : `${parsed.host}:${parsed.port}`,
  };
}

/** A connection error, worded for the person running the client. */
export class DialError extends Error {
  override readonly name = "DialError";
  /** The system error code behind it (`"ENOENT"`, `"EACCES"`, …), when there is one. */
  get errno(): string | undefined {
    const code = (this.cause as NodeJS.ErrnoException | undefined)?.code;
    return typeof code === "string" ? code : undefined;
  }
}

function describe(err: NodeJS.ErrnoException, target: DialTarget): string {
  const where = target.text;
  switch (err.code) {
    case "ENOENT":
      return `no socket at ${where} (ENOENT): is the server running, and is this its address?`;
    case "ECONNREFUSED":
      return `nothing listens at ${where} (ECONNREFUSED)`;
    case "EACCES":
    case "EPERM":
      return `not allowed to connect to ${where} (${err.code}): Tracee creates its socket with mode 0600, so run as its owner`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve the host of ${where} (${err.code})`;
    case "ETIMEDOUT":
      return `connecting to ${where} timed out`;
    default:
      return `cannot connect to ${where}: ${err.message}`;
  }
}

/**
 * Default of how long connecting may take, up to a working HTTP/2 session
 * (TCP, TLS, the server's first SETTINGS), before it fails with ETIMEDOUT.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

function openSocket(target: DialTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const a = target.address;
    const socket = a.kind === "unix" ? netConnect(a.path) : netConnect(a.port, a.host.replace(/^\[(.*)\]$/, "$1"));
    const onAbort = () => socket.destroy(Object.assign(new Error("connecting was given up"), { code: "ECANCELED" }));
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("close", () => signal?.removeEventListener("abort", onAbort));
    // Until the TLS handshake is done; the HTTP/2 session has its own.
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(Object.assign(new Error("connect ETIMEDOUT"), { code: "ETIMEDOUT" })),
    );
    const onError = (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new DialError(describe(err, target), { cause: err }));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** A connected socket, secured as `credentials` say, and the call credentials to apply per call. @internal */
export interface Dialed {
  readonly socket: Socket;
  readonly secure: boolean;
  readonly callCredentials: CallCredentials;
}

/** What grpc-js's credentials offer for connecting, declared here since it is its own lower-level API. */
interface SecureConnectorSource {
  _createSecureConnector?: ChannelCredentials["_createSecureConnector"];
}

/**
 * Connects to `target` and runs the TLS handshake when `credentials` are
 * secure. Rejects with a {@link DialError} naming what went wrong.
 */
export async function dial(
  target: DialTarget,
  credentials: ChannelCredentials,
  options: ChannelOptions,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Dialed> {
  const make = (credentials as SecureConnectorSource)._createSecureConnector;
  if (typeof make !== "function") {
    throw new TypeError("credentials must come from @grpc/grpc-js 1.14 or later (grpc.credentials.createSsl/createInsecure)");
  }
  const uri =
    target.address.kind === "unix"
      ? { scheme: "unix", path: target.address.path }
      : { scheme: "dns", path: `${target.address.host}:${target.address.port}` };
  const connector = make.call(credentials, uri, options);
  try {
    await connector.waitForReady();
    const socket = await openSocket(target, timeoutMs, signal);
    const onAbort = () => socket.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const { socket: secured, secure } = await connector.connect(socket);
      if (signal?.aborted) throw new Error("connecting was given up");
      socket.setTimeout(0);
      return { socket: secured, secure, callCredentials: connector.getCallCredentials() };
    } catch (err) {
      socket.destroy();
      const reason = (err as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT" ? "timed out" : err instanceof Error ? err.message : String(err);
      throw new DialError(`TLS handshake with ${target.text} failed: ${reason}`, { cause: err });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  } finally {
    connector.destroy();
  }
}
