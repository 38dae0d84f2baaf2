import { parseArgs } from "node:util";
import type { JsonValue } from "type-fest";
import type { WriteKey } from "../../detect/data-source.js";
import { UsageError } from "../errors.js";
import { fanOut } from "../fanout.js";
import type { CliIo } from "../io.js";
import { clientCredentials } from "../tls.js";
import { CLIENT_OPTIONS, clientFlags, required } from "./shared.js";

export const WRITE_HELP = `Usage: tracee-ds write --namespace NS --id ID --key K --value V [options]

Writes one key/value into a writable data source (DataSourceService.Write).

Options:
  --address ADDR     unix:///path or host:port (default unix:///var/run/tracee.sock);
                     repeat it to write to several endpoints at once
  --namespace NS     the data source's namespace (required)
  --id ID            the data source's id (required)
  --key K            the key, sent as a string (required)
  --json-key         parse --key as JSON instead (a number, true/false, null)
  --value V          the value, parsed as JSON: 5, "x", {"a":1} (required)
  --string           send --value as a string, unparsed
  --deadline D       give up after D (500ms, 5s, 1m; default 30s)
  --ca FILE          verify the server with this CA (turns on TLS)
  --cert FILE        client certificate for mTLS (with --tls-key)
  --tls-key FILE     client private key for mTLS (with --cert)
  -h, --help         show this help

Exit status: 0 all endpoints accepted, 1 an endpoint refused or was unreachable, 2 usage error.

Example:
  tracee-ds write --namespace my_namespace --id threshold_datasource --key threshold --value 10`;

function parseKey(text: string, json: boolean): WriteKey {
  if (!json) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--key: not valid JSON: ${text}`);
  }
  if (parsed === null || ["string", "number", "boolean"].includes(typeof parsed)) return parsed as WriteKey;
  throw new UsageError("--key: a key must be a string, number, boolean or null, not an object or list");
}

function parseValue(text: string, asString: boolean): JsonValue {
  if (asString) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`--value: not valid JSON: ${text} (to send it as a string, add --string or quote it: '"${text}"')`);
  }
}

/** `tracee-ds write`. @internal */
export async function writeCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...CLIENT_OPTIONS,
      key: { type: "string" },
      "json-key": { type: "boolean" },
      value: { type: "string" },
      string: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.stdout.write(`${WRITE_HELP}\n`);
    return 0;
  }
  const { addresses, namespace, id, deadlineMs } = clientFlags(values);
  const key = parseKey(required("key", values.key), values["json-key"] === true);
  if (values.value === undefined) throw new UsageError("--value is required");
  const value = parseValue(values.value, values.string === true);
  const credentials = clientCredentials(values, io.cwd);
  return fanOut(io, addresses, { credentials, deadlineMs }, async (client) => {
    await client.write({ namespace, id, key, value });
    return "";
  });
}
