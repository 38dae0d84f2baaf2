/**
 * Listen and dial addresses: `unix:///abs/path` (also `unix:/abs/path` and
 * `unix:relative/path`) or `host:port`.
 *
 * @internal
 * @module
 */
import { isAbsolute, resolve } from "node:path";

/** Tracee's default gRPC address. */
export const TRACEE_DEFAULT_ADDRESS = "unix:///var/run/tracee.sock";

/** @internal */
export type ParsedAddress =
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number };

/** Linux's sun_path holds 108 bytes including the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107;

/** @internal Parses a listen address; throws TypeError with the reason. */
export function parseAddress(address: string): ParsedAddress {
  if (typeof address !== "string" || address === "") {
    throw new TypeError(`address must be "unix:///path" or "host:port", got ${JSON.stringify(address)}`);
  }
  if (address.startsWith("unix:")) {
    let path = address.slice("unix:".length);
    if (path.startsWith("//")) {
      // unix://<authority>/path: only the empty authority is meaningful.
      path = path.slice(2);
      if (!path.startsWith("/")) {
        throw new TypeError(`unix address must be "unix:///absolute/path", got ${JSON.stringify(address)}`);
      }
    }
    if (path === "") throw new TypeError(`unix address has no path: ${JSON.stringify(address)}`);
    const absolute = isAbsolute(path) ? path : resolve(path);
    if (Buffer.byteLength(absolute) > MAX_UNIX_PATH_BYTES) {
      throw new TypeError(
        `unix socket path is longer than ${MAX_UNIX_PATH_BYTES} bytes, the system limit: ${absolute}`,
      );
    }
    return { kind: "unix", path: absolute };
  }
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/]+):(\d{1,5})$/.exec(address);
  if (match === null) {
    throw new TypeError(`address must be "unix:///path" or "host:port", got ${JSON.stringify(address)}`);
  }
  const port = Number(match[2]);
  if (port > 65535) throw new TypeError(`port out of range in ${JSON.stringify(address)}`);
  return { kind: "tcp", host: match[1] ?? "", port };
}

/** @internal The canonical text of a parsed address. */
export function formatAddress(address: ParsedAddress): string {
  return address.kind === "unix" ? `unix://${address.path}` : `${address.host}:${address.port}`;
}
