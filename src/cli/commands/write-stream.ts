import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { EXIT_OK, UsageError } from "../errors.js";
import { fanOut } from "../fanout.js";
import { type CliIo, println } from "../io.js";
import { parseNdjson, type StreamEntry } from "../ndjson.js";
import { clientCredentials } from "../tls.js";
import { CLIENT_OPTIONS, clientFlags } from "./shared.js";

/** What write-stream says, on stderr, when the input holds no entries. */
const NOTHING_SENT = "nothing sent: the input had no entries";

export const WRITE_STREAM_HELP = `Usage: tracee-ds write-stream --namespace NS --id ID [--file F.ndjson | -] [options]

Streams entries into a writable data source (DataSourceService.WriteStream);
the server applies them all or none. Input is NDJSON, one {"key":…,"value":…}
per line, from --file or standard input ("-" or no file). The whole input is
checked first: a malformed line is reported with its line number and nothing
is sent.

Options:
  --address ADDR     unix:///path or host:port (default unix:///var/run/tracee.sock);
                     repeat it to stream to several endpoints at once
  --namespace NS     the data source's namespace (required)
  --id ID            the data source's id (required)
  --file F           read entries from F ("-" for standard input, the default)
  --deadline D       give up after D (500ms, 5s, 1m; default 30s)
  --ca FILE          verify the server with this CA (turns on TLS)
  --cert FILE        client certificate for mTLS (with --tls-key)
  --tls-key FILE     client private key for mTLS (with --cert)
  -h, --help         show this help

A progress line (entries sent, rate) is shown when standard error is a terminal.
Input with no entries (empty, or only blank lines) contacts no endpoint: it
prints "${NOTHING_SENT}" and exits 0.
Exit status: 0 all endpoints accepted (or nothing to send), 1 an endpoint
refused or was unreachable, 2 usage error.

Example:
  tracee-ds write-stream --namespace iocs --id sha256 --file iocs.ndjson`;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Counts entries as the client pulls them and paints a progress line on a terminal. */
function progress(io: CliIo, total: number) {
  let sent = 0;
  const started = performance.now();
  let lastPaint = 0;
  const tty = io.stderr.isTTY === true;
  const paint = (final: boolean) => {
    const now = performance.now();
    if (!tty || (!final && now - lastPaint < 100)) return;
    lastPaint = now;
    const rate = sent / Math.max((now - started) / 1000, 1e-3);
    io.stderr.write(`\r${sent}/${total} entries sent, ${Math.round(rate)} entries/s${final ? "\n" : ""}`);
  };
  return {
    *count(entries: readonly StreamEntry[]): Generator<readonly [StreamEntry["key"], StreamEntry["value"]]> {
      for (const e of entries) {
        sent++;
        paint(false);
        yield [e.key, e.value];
      }
    },
    done: () => paint(true),
    elapsedSeconds: () => (performance.now() - started) / 1000,
  };
}

/** `tracee-ds write-stream`. @internal */
export async function writeStreamCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CLIENT_OPTIONS, file: { type: "string", short: "f" } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help === true) {
    io.stdout.write(`${WRITE_STREAM_HELP}\n`);
    return 0;
  }
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "-")) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals.find((p) => p !== "-") ?? positionals[1])}`);
  }
  if (positionals.length === 1 && values.file !== undefined) throw new UsageError('give either --file or "-", not both');
  const { addresses, namespace, id, deadlineMs } = clientFlags(values);
  const credentials = clientCredentials(values, io.cwd);

  const file = values.file ?? "-";
  let text: string;
  if (file === "-") {
    text = await readAll(io.stdin);
  } else {
    try {
      text = await readFile(resolve(io.cwd, file), "utf8");
    } catch (err) {
      throw new UsageError(`--file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const entries = parseNdjson(text, file === "-" ? "stdin" : file);
  if (entries.length === 0) {
    // Not an error (an empty batch is a normal outcome in scripts), but no
    // endpoint was contacted, so no "ok" line claims a write.
    println(io.stderr, NOTHING_SENT);
    return EXIT_OK;
  }

  const meter = progress(io, entries.length * addresses.length);
  const code = await fanOut(io, addresses, { credentials, deadlineMs }, async (client) => {
    await client.dataSource(namespace, id).writeStream(meter.count(entries));
    return `${entries.length} entries written to ${namespace}/${id}`;
  });
  meter.done();
  const seconds = meter.elapsedSeconds();
  io.stderr.write(
    `${entries.length} entries to ${addresses.length} endpoint${addresses.length === 1 ? "" : "s"} in ${seconds.toFixed(2)} s\n`,
  );
  return code;
}
