import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type ChannelCredentials, credentials, ServerCredentials } from "@grpc/grpc-js";
import { UsageError } from "./errors.js";

/** The TLS flags every command takes. @internal */
export interface TlsFlags {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly "tls-key"?: string | undefined;
}

export const TLS_OPTIONS = {
  ca: { type: "string" },
  cert: { type: "string" },
  "tls-key": { type: "string" },
} as const;

function read(cwd: string, flag: string, path: string | undefined): Buffer | null {
  if (path === undefined) return null;
  try {
    return readFileSync(resolve(cwd, path));
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function pair(flags: TlsFlags): void {
  if ((flags.cert === undefined) !== (flags["tls-key"] === undefined)) {
    throw new UsageError("--cert and --tls-key go together");
  }
}

/** Client credentials: insecure without flags; TLS with --ca; mTLS with --cert and --tls-key too. @internal */
export function clientCredentials(flags: TlsFlags, cwd: string): ChannelCredentials {
  pair(flags);
  if (flags.ca === undefined && flags.cert === undefined) return credentials.createInsecure();
  return credentials.createSsl(read(cwd, "ca", flags.ca), read(cwd, "tls-key", flags["tls-key"]), read(cwd, "cert", flags.cert));
}

/** Server credentials: insecure without flags; TLS with --cert and --tls-key; client certificates required with --ca. @internal */
export function serverCredentials(flags: TlsFlags, cwd: string): ServerCredentials {
  pair(flags);
  const ca = read(cwd, "ca", flags.ca);
  const cert = read(cwd, "cert", flags.cert);
  const key = read(cwd, "tls-key", flags["tls-key"]);
  if (cert === null || key === null) {
    if (ca !== null) throw new UsageError("--ca on serve needs --cert and --tls-key (the server's own certificate)");
    return ServerCredentials.createInsecure();
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
