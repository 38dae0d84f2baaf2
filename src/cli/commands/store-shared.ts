/**
 * What the `tracee-ds store` subcommands share: their flags, the store's kind
 * (IP reputations or JSON values) and its message types, and a run against
 * one endpoint or several at once.
 *
 * @internal
 * @module
 */
import type { ChannelCredentials } from "@grpc/grpc-js";
import { TRACEE_DEFAULT_ADDRESS } from "../../grpc/address.js";
import { DataStoreClient, type RemoteDataStore } from "../../grpc/datastore-client.js";
import { parseDuration } from "../duration.js";
import { storeTypes } from "../import/encoding.js";
import { UsageError } from "../errors.js";
import type { StoreKind } from "../import/rows.js";
import { fanOutWith } from "../fanout.js";
import type { CliIo } from "../io.js";
import { TLS_OPTIONS } from "../tls.js";
import { checkAddress, DEFAULT_DEADLINE_MS, oneOf, required } from "./shared.js";

/** Tracee's IP reputation store: `--kind ip` is the default for it. */
export const IP_REPUTATION_STORE = "ip_reputation";

/** Flags of every store subcommand. @internal */
export const STORE_OPTIONS = {
  address: { type: "string", multiple: true },
  store: { type: "string" },
  kind: { type: "string" },
  deadline: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...TLS_OPTIONS,
} as const;

/** The flags' text for the help pages. @internal */
export const CONNECTION_HELP = `  --address ADDR     unix:///path or host:port (default unix:///var/run/tracee.sock)
  --deadline D       give up on a call after D (500ms, 5s, 1m; default 30s)
  --ca FILE          verify the server with this CA (turns on TLS)
  --cert FILE        client certificate for mTLS (with --tls-key)
  --tls-key FILE     client private key for mTLS (with --cert)
  -h, --help         show this help`;

/** `--kind`, or what the store's name implies: `ip` for ip_reputation, `value` for any other. @internal */
export function storeKind(store: string, kind: string | undefined): StoreKind {
  return oneOf("kind", kind, ["ip", "value"] as const, store === IP_REPUTATION_STORE ? "ip" : "value");
}

/** A typed view of `store` for `kind`. @internal */
export function remoteStore(client: DataStoreClient, store: string, kind: StoreKind): RemoteDataStore<unknown, unknown> {
  return client.store(store, storeTypes(kind));
}

/** The connection flags, read and checked. @internal */
export interface ConnectionFlags {
  readonly addresses: string[];
  readonly store: string;
  readonly deadlineMs: number;
}

/** Reads `--address`, `--store` and `--deadline`. @internal */
export function connectionFlags(values: {
  address?: string[] | undefined;
  store?: string | undefined;
  deadline?: string | undefined;
}): ConnectionFlags {
  const store = required("store", values.store);
  const addresses =
    values.address === undefined || values.address.length === 0 ? [TRACEE_DEFAULT_ADDRESS] : values.address.map(checkAddress);
  const deadlineMs = values.deadline === undefined ? DEFAULT_DEADLINE_MS : parseDuration("deadline", values.deadline);
  return { addresses, store, deadlineMs };
}

/** The one address of a subcommand that talks to a single endpoint. @internal */
export function singleAddress(addresses: readonly string[], subcommand: string): string {
  if (addresses.length > 1) throw new UsageError(`store ${subcommand} talks to one endpoint: give --address once`);
  return addresses[0] ?? TRACEE_DEFAULT_ADDRESS;
}

/** {@link fanOutWith} a `DataStoreClient` per address. @internal */
export function fanOutStore(
  io: CliIo,
  addresses: readonly string[],
  options: { credentials: ChannelCredentials; deadlineMs: number },
  action: (client: DataStoreClient) => Promise<string>,
): Promise<number> {
  return fanOutWith(io, addresses, (address) => new DataStoreClient(address, options), action);
}
