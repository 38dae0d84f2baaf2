/**
 * `tracee-ds store`: Tracee's writable datastores over `DataStoreService` —
 * write, delete, clear, list sources, import files.
 *
 * @internal
 * @module
 */
import { parseArgs } from "node:util";
import type { JsonValue } from "type-fest";
import { DataStoreClient } from "../../grpc/datastore-client.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, UsageError } from "../errors.js";
import { entryCheck, packChecked, storeTypes } from "../import/encoding.js";
import { ipEntry, parseIp, RowError, type StoreKind } from "../import/rows.js";
import { type CliIo, println } from "../io.js";
import { failureText } from "../fanout.js";
import { clientCredentials } from "../tls.js";
import { required } from "./shared.js";
import { storeImportCommand, STORE_IMPORT_HELP } from "./store-import.js";
import {
  CONNECTION_HELP,
  connectionFlags,
  fanOutStore,
  remoteStore,
  singleAddress,
  STORE_OPTIONS,
  storeKind,
} from "./store-shared.js";

export const STORE_HELP = `Usage: tracee-ds store <write|delete|clear|sources|import> --store NAME [options]

Writes into Tracee's writable datastores (DataStoreService), such as
ip_reputation: one entry, a file of them, or removes a source's entries.

Subcommands:
  write     write one entry owned by --source (WriteData)
  delete    remove --source's entry for --key (DeleteData)
  clear     remove every entry --source wrote; prints how many (ClearSource)
  sources   list the sources that hold entries, one a line (ListSources)
  import    write a JSON, NDJSON or CSV file in batches (WriteBatchData)

A store is an IP reputation store (--kind ip, the default for ip_reputation:
keys are IP addresses) or a store of JSON values (--kind value, the default
for any other name). Run tracee-ds store <subcommand> --help for its flags.

Exit status: 0 ok, 1 a server refused or was unreachable, 2 usage error or bad input.

Examples:
  tracee-ds store write --store ip_reputation --source feed --key 203.0.113.7 --status deny --severity 8 --tag c2
  tracee-ds store import feed.csv --store ip_reputation --source feed
  tracee-ds store clear --store ip_reputation --source feed`;

export const STORE_WRITE_HELP = `Usage: tracee-ds store write --store NAME --source NAME --key K [entry flags] [options]

Writes one entry, owned by --source, into the store (DataStoreService.WriteData).

IP reputation stores (--kind ip; the default for ip_reputation):
  --key IP           the address (required)
  --status S         allow, deny, suspicious or unknown (required)
  --severity N       1 to 10 (required)
  --tag T            a tag; repeat for several
  --meta K=V         a metadata entry; repeat for several
  --last-updated T   RFC 3339 time of the verdict (default: now)
  --data JSON        the whole verdict as JSON instead:
                     '{"status":"deny","severity":8,"tags":["c2"]}'

Value stores (--kind value; the default for other names):
  --key K            the key, sent as a string (required)
  --json-key         parse --key as JSON instead (a number, true/false, null)
  --data D           the data, parsed as JSON: 5, "x", {"a":1} (required)
  --string           send --data as a string, unparsed

Options:
  --store NAME       the store (required)
  --source NAME      who writes: the source that owns the entry (required)
  --kind K           ip or value (default: ip for ip_reputation, value otherwise)
${CONNECTION_HELP.replace("(default unix:///var/run/tracee.sock)", "(default unix:///var/run/tracee.sock);\n                     repeat it to write to several endpoints at once")}

Examples:
  tracee-ds store write --store ip_reputation --source feed --key 203.0.113.7 --status deny --severity 8 --tag c2 --tag botnet
  tracee-ds store write --store known_hosts --source cmdb --key web-1 --data '{"team":"payments"}'`;

export const STORE_DELETE_HELP = `Usage: tracee-ds store delete --store NAME --source NAME --key K [options]

Removes --source's entry for --key (DataStoreService.DeleteData); other
sources' entries for the key stay. Removing what is not there is no error.

Options:
  --store NAME       the store (required)
  --source NAME      the source whose entry goes (required)
  --key K            the key: an IP address for ip stores, a string for value
                     stores (required)
  --json-key         value stores: parse --key as JSON (a number, true/false, null)
  --kind K           ip or value (default: ip for ip_reputation, value otherwise)
${CONNECTION_HELP.replace("(default unix:///var/run/tracee.sock)", "(default unix:///var/run/tracee.sock);\n                     repeat it for several endpoints")}`;

export const STORE_CLEAR_HELP = `Usage: tracee-ds store clear --store NAME --source NAME [options]

Removes every entry --source wrote to the store (DataStoreService.ClearSource)
and prints how many there were.

Options:
  --store NAME       the store (required)
  --source NAME      the source to clear (required)
${CONNECTION_HELP.replace("(default unix:///var/run/tracee.sock)", "(default unix:///var/run/tracee.sock);\n                     repeat it for several endpoints")}`;

export const STORE_SOURCES_HELP = `Usage: tracee-ds store sources --store NAME [--json] [options]

Lists the sources that hold entries in the store (DataStoreService.ListSources),
one a line on standard output.

Options:
  --store NAME       the store (required)
  --json             print a JSON array instead
${CONNECTION_HELP}`;

const SUBCOMMAND_HELP: Readonly<Record<string, string>> = {
  write: STORE_WRITE_HELP,
  delete: STORE_DELETE_HELP,
  clear: STORE_CLEAR_HELP,
  sources: STORE_SOURCES_HELP,
  import: STORE_IMPORT_HELP,
};

function parseJson(flag: string, text: string, hint = ""): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`--${flag}: not valid JSON: ${text}${hint}`);
  }
}

/** A key from `--key` for `kind`. */
function keyFlag(kind: StoreKind, text: string, json: boolean): unknown {
  if (kind === "ip") {
    if (json) throw new UsageError("--json-key is for value stores; an IP store's key is an address");
    try {
      return parseIp(text);
    } catch (err) {
      throw new UsageError(`--key: ${(err as Error).message}`);
    }
  }
  if (!json) return text;
  const key = parseJson("key", text);
  if (key === null || typeof key === "string" || typeof key === "boolean" || typeof key === "number") {
    sendable(() => packChecked(storeTypes(kind).key, key, "--key")); // 1e400 parses as Infinity
    return key;
  }
  throw new UsageError("--key: a key must be a string, number, boolean or null, not an object or list");
}

/** Runs a check that throws a RowError (what cannot be sent), as a usage error: refused here, exit 2. */
function sendable(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof RowError) throw new UsageError(err.message);
    throw err;
  }
}

const WRITE_OPTIONS = {
  ...STORE_OPTIONS,
  source: { type: "string" },
  key: { type: "string" },
  "json-key": { type: "boolean" },
  data: { type: "string" },
  string: { type: "boolean" },
  status: { type: "string" },
  severity: { type: "string" },
  tag: { type: "string", multiple: true },
  meta: { type: "string", multiple: true },
  "last-updated": { type: "string" },
} as const;

type WriteValues = ReturnType<typeof parseArgs<{ options: typeof WRITE_OPTIONS; strict: true }>>["values"];

/** The IP reputation entry `store write` flags describe. */
function ipWriteEntry(values: WriteValues): { key: unknown; data: unknown } {
  const key = keyFlag("ip", required("key", values.key), values["json-key"] === true);
  const entryFlags = ["status", "severity", "tag", "meta", "last-updated"] as const;
  const given = entryFlags.filter((f) => values[f] !== undefined);
  if (values.string === true) throw new UsageError("--string is for value stores");
  let fields: Record<string, unknown>;
  if (values.data !== undefined) {
    if (given.length > 0) throw new UsageError(`give the verdict either as --data or as flags, not both (--${given[0]})`);
    const data = parseJson("data", values.data);
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new UsageError('--data: an IP reputation is a JSON object: {"status":"deny","severity":8}');
    }
    fields = { ...data, ip: key };
    if (Object.hasOwn(data, "ip") || Object.hasOwn(data, "key")) throw new UsageError("--data: the address goes in --key, not in --data");
  } else {
    const metadata: Record<string, string> = {};
    for (const pair of values.meta ?? []) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new UsageError(`--meta: expected KEY=VALUE, got ${JSON.stringify(pair)}`);
      Object.defineProperty(metadata, pair.slice(0, eq), { value: pair.slice(eq + 1), enumerable: true, writable: true, configurable: true });
    }
    fields = {
      ip: key,
      status: required("status", values.status),
      severity: required("severity", values.severity),
      tags: values.tag ?? [],
      metadata,
      ...(values["last-updated"] === undefined ? {} : { last_updated: values["last-updated"] }),
    };
  }
  try {
    return ipEntry({ line: 0, fields, text: false }, new Date());
  } catch (err) {
    if (err instanceof RowError) throw new UsageError(err.message);
    throw err;
  }
}

/** The value entry `store write` flags describe. */
function valueWriteEntry(values: WriteValues): { key: unknown; data: unknown } {
  const ipFlag = (["status", "severity", "tag", "meta", "last-updated"] as const).find((f) => values[f] !== undefined);
  if (ipFlag !== undefined) throw new UsageError(`--${ipFlag} is for IP reputation stores (--kind ip)`);
  const key = keyFlag("value", required("key", values.key), values["json-key"] === true);
  if (values.data === undefined) throw new UsageError("--data is required");
  const data =
    values.string === true
      ? values.data
      : parseJson("data", values.data, ` (to send it as a string, add --string or quote it: '"${values.data}"')`);
  return { key, data };
}

async function writeSubcommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: WRITE_OPTIONS, strict: true, allowPositionals: false });
  if (values.help === true) return help(io, "write");
  const { addresses, store, deadlineMs } = connectionFlags(values);
  const source = required("source", values.source);
  const kind = storeKind(store, values.kind);
  const entry = kind === "ip" ? ipWriteEntry(values) : valueWriteEntry(values);
  // Packed as it will be sent: data the client cannot encode (1e400, nesting deeper than 64) is refused here.
  sendable(() => entryCheck(kind, undefined, { key: "--key", data: "--data" })(entry));
  const credentials = clientCredentials(values, io.cwd);
  return fanOutStore(io, addresses, { credentials, deadlineMs }, async (client) => {
    await remoteStore(client, store, kind).write(source, entry);
    return "";
  });
}

async function deleteSubcommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...STORE_OPTIONS, source: { type: "string" }, key: { type: "string" }, "json-key": { type: "boolean" } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return help(io, "delete");
  const { addresses, store, deadlineMs } = connectionFlags(values);
  const source = required("source", values.source);
  const kind = storeKind(store, values.kind);
  const key = keyFlag(kind, required("key", values.key), values["json-key"] === true);
  const credentials = clientCredentials(values, io.cwd);
  return fanOutStore(io, addresses, { credentials, deadlineMs }, async (client) => {
    await remoteStore(client, store, kind).delete(source, key);
    return "";
  });
}

async function clearSubcommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...STORE_OPTIONS, source: { type: "string" } }, strict: true, allowPositionals: false });
  if (values.help === true) return help(io, "clear");
  const { addresses, store, deadlineMs } = connectionFlags(values);
  const source = required("source", values.source);
  const credentials = clientCredentials(values, io.cwd);
  return fanOutStore(io, addresses, { credentials, deadlineMs }, async (client) => {
    const deleted = await client.clearSource({ store, source });
    return `${deleted} ${deleted === 1 ? "entry" : "entries"} deleted`;
  });
}

async function sourcesSubcommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...STORE_OPTIONS, json: { type: "boolean" } }, strict: true, allowPositionals: false });
  if (values.help === true) return help(io, "sources");
  const { addresses, store, deadlineMs } = connectionFlags(values);
  const address = singleAddress(addresses, "sources");
  const credentials = clientCredentials(values, io.cwd);
  const client = new DataStoreClient(address, { credentials, deadlineMs });
  let sources: string[];
  try {
    sources = await client.listSources({ store });
  } catch (err) {
    println(io.stderr, `failed  ${client.address}  ${failureText(err)}`);
    return EXIT_REFUSED;
  } finally {
    client.close();
  }
  if (values.json === true) println(io.stdout, JSON.stringify(sources));
  else for (const source of sources) println(io.stdout, source);
  return EXIT_OK;
}

function help(io: CliIo, subcommand: string): number {
  io.stdout.write(`${SUBCOMMAND_HELP[subcommand] ?? STORE_HELP}\n`);
  return 0;
}

const SUBCOMMANDS: Readonly<Record<string, (args: string[], io: CliIo) => Promise<number>>> = {
  write: writeSubcommand,
  delete: deleteSubcommand,
  clear: clearSubcommand,
  sources: sourcesSubcommand,
  import: storeImportCommand,
};

/** `tracee-ds store`. @internal */
export async function storeCommand(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === "-h" || name === "--help") return help(io, "");
  if (name === undefined) {
    io.stderr.write(`${STORE_HELP}\n`);
    return EXIT_USAGE;
  }
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined) throw new UsageError(`unknown subcommand ${JSON.stringify(name)}; expected write, delete, clear, sources or import`);
  return subcommand(rest, io);
}
